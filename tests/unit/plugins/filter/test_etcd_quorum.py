"""Unit tests of the etcd_quorum filter: may this control plane's etcd member stop now (tasks/quorum.yml)?"""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.filter.etcd_quorum import etcd_quorum

# IDs above 2**53, as etcd makes them: JSON numbers that must compare exactly.
IDS = {"cp1": 17237436991929493444, "cp2": 9372538179322589801, "cp3": 12709658219938373893,
       "cp4": 5213049814112001002, "cp5": 3091239391002211133}


def members(names, me, learners=()):
    return json.dumps({
        "header": {"cluster_id": 1, "member_id": IDS[me], "raft_term": 4},
        "members": [dict({"ID": IDS[n], "name": n, "peerURLs": ["https://%s:2380" % n],
                          "clientURLs": ["https://%s:2379" % n]}, **({"isLearner": True} if n in learners else {}))
                    for n in names]})


def health(up, down=()):
    return json.dumps([{"endpoint": "https://%s:2379" % n, "health": True, "took": "9ms"} for n in up]
                      + [{"endpoint": "https://%s:2379" % n, "health": False, "took": "5s",
                          "error": "context deadline exceeded"} for n in down])


CPS3 = ["cp1", "cp2", "cp3"]
CPS5 = CPS3 + ["cp4", "cp5"]


def test_all_healthy_may_restart_any():
    q = etcd_quorum(members(CPS3, "cp2"), health(CPS3))
    assert q == {"safe": True, "member": "cp2", "voters": 3, "quorum": 2, "healthy_after": 2, "short": False,
                 "unhealthy": []}


def test_three_members_one_down_refuses_and_names_it():
    q = etcd_quorum(members(CPS3, "cp2"), health(["cp2", "cp3"], ["cp1"]))
    assert not q["safe"] and q["healthy_after"] == 1 and q["quorum"] == 2
    assert q["unhealthy"] == [{"name": "cp1", "endpoint": "https://cp1:2379", "error": "context deadline exceeded"}]


def test_a_member_missing_from_the_health_answer_counts_as_down():
    q = etcd_quorum(members(CPS3, "cp3"), health(["cp2", "cp3"]))
    assert not q["safe"] and q["unhealthy"][0]["name"] == "cp1" and q["unhealthy"][0]["error"] == "no health answer"


def test_five_members_one_down_keeps_quorum_two_down_does_not():
    assert etcd_quorum(members(CPS5, "cp2"), health(CPS5[1:], ["cp1"]))["safe"]
    q = etcd_quorum(members(CPS5, "cp2"), health(["cp2", "cp4", "cp5"], ["cp1", "cp3"]))
    assert not q["safe"] and q["healthy_after"] == 2 and q["quorum"] == 3
    assert [u["name"] for u in q["unhealthy"]] == ["cp1", "cp3"]


def test_restarting_the_unhealthy_member_itself_takes_nothing_away():
    # cp1 is the one that stops and is already unhealthy: the two others keep quorum.
    q = etcd_quorum(members(CPS3, "cp1"), health(["cp2", "cp3"], ["cp1"]))
    assert q["safe"] and q["healthy_after"] == 2 and q["unhealthy"] == []


def test_a_single_member_cluster_is_not_refused():
    q = etcd_quorum(members(["cp1"], "cp1"), health(["cp1"]))
    assert q["safe"] and q["healthy_after"] == 0 and q["quorum"] == 1 and not q["short"]


def test_two_healthy_members_are_short_a_member_to_restart_either():
    # cp1 removed (remove_node) and not yet joined again: stopping cp2 or cp3 leaves 1 of 2, and etcd stops.
    for me in ("cp2", "cp3"):
        q = etcd_quorum(members(["cp2", "cp3"], me), health(["cp2", "cp3"]))
        assert q == {"safe": False, "member": me, "voters": 2, "quorum": 2, "healthy_after": 1, "short": True,
                     "unhealthy": []}


def test_two_members_one_down_is_not_short_but_unhealthy():
    q = etcd_quorum(members(["cp2", "cp3"], "cp2"), health(["cp2"], ["cp3"]))
    assert not q["safe"] and not q["short"] and [u["name"] for u in q["unhealthy"]] == ["cp3"]
    # The unhealthy member itself may restart: it takes nothing away that etcd still has.
    q = etcd_quorum(members(["cp2", "cp3"], "cp3"), health(["cp2"], ["cp3"]))
    assert q["safe"] and not q["short"] and q["healthy_after"] == 1


def test_four_healthy_members_may_lose_one():
    q = etcd_quorum(members(CPS5[:4], "cp4"), health(CPS5[:4]))
    assert q["safe"] and q["healthy_after"] == 3 and q["quorum"] == 3


def test_learners_do_not_vote():
    # cp3 is a learner that has not caught up: the two voters are both needed.
    q = etcd_quorum(members(CPS3, "cp1", learners=["cp3"]), health(["cp1", "cp2"], ["cp3"]))
    assert q["voters"] == 2 and q["quorum"] == 2 and not q["safe"] and q["short"] and q["unhealthy"] == []
    q = etcd_quorum(members(CPS3, "cp1", learners=["cp3"]), health(["cp1"], ["cp2"]))
    assert not q["safe"] and [u["name"] for u in q["unhealthy"]] == ["cp2"]


def test_health_text_that_is_not_json_counts_every_other_member_down():
    q = etcd_quorum(members(CPS3, "cp1"), "Error: unhealthy cluster")
    assert not q["safe"] and [u["name"] for u in q["unhealthy"]] == ["cp2", "cp3"]


def test_parsed_input_and_an_unstarted_member():
    listing = json.loads(members(CPS3, "cp1"))
    listing["members"][2]["name"] = ""
    listing["members"][2]["clientURLs"] = []
    q = etcd_quorum(listing, json.loads(health(["cp1", "cp2"])))
    assert not q["safe"] and q["unhealthy"][0]["name"] == "(not started) https://cp3:2380"


@pytest.mark.parametrize("bad", ["", "not json", "[]", '{"header": {}}'])
def test_a_member_list_that_is_not_one_fails_clearly(bad):
    with pytest.raises(AnsibleFilterError, match="etcd_quorum: the member list"):
        etcd_quorum(bad, "[]")
