# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: expiry_table
short_description: A compact, aligned table of certificate expiry dates
version_added: 0.1.0
description:
  - Takes one row per certificate (as the C(kubeha.cluster.certificates) role gathers them) and returns the lines
    of a table with a header, columns padded to their widest value, rows sorted by days left, then host and name.
  - Fails with a message naming the row when a row lacks a field.
options:
  _input:
    description: >-
      The certificates; each a dict with C(host), C(name), C(not_after) (text), C(days) (days left, a number) and
      C(serial) (an integer, shown in hex), and optionally C(ca) (true for a certificate authority).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show when the certificates expire
  ansible.builtin.debug:
    msg: "{{ certificates | kubeha.cluster.expiry_table }}"
  vars:
    certificates:
      - {host: cp1, name: apiserver.crt, not_after: "2027-01-01T00:00:00Z", days: 364.2, serial: 1234, ca: false}
"""

RETURN = r"""
_value:
  description: The header line, then one line per certificate.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

COLUMNS = ("HOST", "CERTIFICATE", "EXPIRES (UTC)", "DAYS LEFT", "SERIAL")
FIELDS = ("host", "name", "not_after", "days", "serial")


def _cells(row):
    missing = [f for f in FIELDS if f not in row]
    if missing:
        raise AnsibleFilterError("expiry_table: a row lacks %s: %r" % (", ".join(missing), row))
    try:
        days = "%.1f" % float(row["days"])
        serial = "%x" % int(row["serial"])
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("expiry_table: days must be a number and serial an integer: %r (%s)" % (row, exc))
    name = "%s (CA)" % row["name"] if row.get("ca") else str(row["name"])
    return (str(row["host"]), name, str(row["not_after"]), days, serial)


def expiry_table(rows):
    if not isinstance(rows, (list, tuple)):
        raise AnsibleFilterError("expiry_table: the input must be a list of rows, not %s" % type(rows).__name__)
    cells = sorted((float(c[3]), c[0], c[1], c) for c in (_cells(r) for r in rows))
    table = [COLUMNS] + [c[-1] for c in cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    return ["  ".join(cell.rjust(w) if i == 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
            for line in table]


class FilterModule(object):
    def filters(self):
        return {"expiry_table": expiry_table}
