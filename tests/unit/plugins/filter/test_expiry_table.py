"""Unit tests of the expiry_table filter: the certificates playbook's expiry table."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.filter.expiry_table import expiry_table

ROWS = [
    {"host": "cp1", "name": "apiserver.crt", "not_after": "2027-01-01T00:00:00Z", "days": 364.24, "serial": 255},
    {"host": "cp2", "name": "etcd/ca.crt", "not_after": "2036-01-01T00:00:00Z", "days": 3652.0, "serial": 16,
     "ca": True},
    {"host": "cp1", "name": "admin.conf", "not_after": "2026-01-20T00:00:00Z", "days": 12.0, "serial": 1},
]


def test_header_then_rows_sorted_by_days_left():
    lines = expiry_table(ROWS)
    assert lines[0].split()[:2] == ["HOST", "CERTIFICATE"]
    assert [line.split()[1] for line in lines[1:]] == ["admin.conf", "apiserver.crt", "etcd/ca.crt"]


def test_columns_are_aligned_and_values_formatted():
    lines = expiry_table(ROWS)
    starts = {line.index("20") for line in lines[1:]}
    assert len(starts) == 1 and lines[0].index("EXPIRES") in starts
    assert lines[2].split()[-2:] == ["364.2", "ff"]
    assert "etcd/ca.crt (CA)" in lines[3]
    # Days left are right-aligned: the column's last digit is at the same place on every line.
    ends = {line.index(line.split()[-2]) + len(line.split()[-2]) for line in lines}
    assert len(ends) == 1


def test_no_rows_is_only_the_header():
    assert len(expiry_table([])) == 1


@pytest.mark.parametrize("row,match", [
    ({"host": "cp1", "name": "x", "not_after": "t", "days": 1}, "lacks serial"),
    ({"host": "cp1", "name": "x", "not_after": "t", "days": "soon", "serial": 1}, "days must be a number"),
])
def test_a_bad_row_is_named(row, match):
    with pytest.raises(AnsibleFilterError, match=match):
        expiry_table([row])


def test_not_a_list():
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        expiry_table({"host": "cp1"})
