# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: etcd_quorum
short_description: Whether etcd keeps quorum while one member stops
version_added: 0.1.0
description:
  - Takes etcd's member list (C(etcdctl member list -w json), asked from the member that would stop, whose ID the
    answer's header gives) and the members' health (C(etcdctl endpoint health --cluster -w json)), and tells whether
    that member can stop now without the others losing quorum.
  - It can when the healthy voting members other than the one that stops are still a majority of the voting members.
    Otherwise it cannot, either because another member is unhealthy (or missing from the health answer) or because
    the cluster is short - every other member is healthy, but there are too few of them (two voting members, when a
    control plane was removed and has not joined again yet). Stopping one of two members stops etcd until it is back.
  - A member that is itself unhealthy while every other member is healthy takes nothing away and may stop. The
    other exception is a one-member cluster (a single control plane), which cannot keep serving while its member
    stops, whatever the plan, so it is not refused.
  - Learners do not vote and do not count.
options:
  _input:
    description: The member list, as JSON text or parsed.
    type: raw
    required: true
  health:
    description: The endpoint health list, as JSON text or parsed; text that is not JSON counts as every other member
      unhealthy (etcdctl could not say).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse to stop this member
  ansible.builtin.fail:
    msg: "{{ q.unhealthy | map(attribute='name') | join(', ') }} down"
  vars:
    q: "{{ members.stdout | kubeha.cluster.etcd_quorum(health.stdout) }}"
  when: not q.safe
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    safe:
      description: The member can stop now.
      type: bool
    member:
      description: The name of the member that would stop (the one that answered the member list).
      type: str
    voters:
      description: Voting members.
      type: int
    quorum:
      description: The majority of the voting members.
      type: int
    healthy_after:
      description: Healthy voting members while it is stopped.
      type: int
    short:
      description: Refused although no other member is unhealthy - the cluster has too few voting members to lose
        one (two); another control plane has to join first.
      type: bool
    unhealthy:
      description: The other members that are not healthy, each with C(name), C(endpoint) and C(error).
      type: list
      elements: dict
"""

import json

from ansible.errors import AnsibleFilterError


def _parse(value, what):
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        if what == "member list":
            raise AnsibleFilterError("etcd_quorum: the member list is not JSON: %r" % (str(value)[:200],))
        return None


def etcd_quorum(members, health):
    listing = _parse(members, "member list")
    if not isinstance(listing, dict) or not isinstance(listing.get("members"), list):
        raise AnsibleFilterError("etcd_quorum: the member list has no members: %r" % (str(members)[:200],))
    self_id = (listing.get("header") or {}).get("member_id")
    answers = _parse(health, "health")
    healthy_urls = set()
    errors = {}
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict) or "endpoint" not in answer:
            continue
        if answer.get("health") is True:
            healthy_urls.add(answer["endpoint"])
        else:
            errors[answer["endpoint"]] = str(answer.get("error") or "unhealthy")
    voters = [m for m in listing["members"] if not m.get("isLearner")]
    me = next((m for m in voters if m.get("ID") == self_id), None)
    unhealthy, healthy = [], 0
    for m in voters:
        urls = m.get("clientURLs") or []
        ok = any(u in healthy_urls for u in urls)
        if ok:
            healthy += 1
        elif m is not me:
            url = urls[0] if urls else ", ".join(m.get("peerURLs") or [])
            unhealthy.append({"name": m.get("name") or "(not started) " + url, "endpoint": url,
                              "error": next((errors[u] for u in urls if u in errors), "no health answer")})
    me_healthy = me is not None and any(u in healthy_urls for u in me.get("clientURLs") or [])
    quorum = len(voters) // 2 + 1
    after = healthy - (1 if me_healthy else 0)
    # A member that is not healthy itself takes nothing away when it stops, unless another one is down as well.
    safe = after >= quorum or len(voters) == 1 or (not me_healthy and not unhealthy)
    return {"safe": safe,
            "member": (me or {}).get("name", ""),
            "voters": len(voters), "quorum": quorum, "healthy_after": after,
            "short": not safe and not unhealthy,
            "unhealthy": sorted(unhealthy, key=lambda u: u["name"])}


class FilterModule(object):
    def filters(self):
        return {"etcd_quorum": etcd_quorum}
