"""Unit tests of the node_address filter: the one definition of a host's cluster address."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.filter.node_address import node_address


def test_the_inventory_setting_wins():
    assert node_address({"kubeha_node_address": "10.0.0.5", "ansible_host": "192.0.2.1"}) == "10.0.0.5"


def test_an_ipv4_ansible_host_comes_next():
    assert node_address({"ansible_host": "192.0.2.1", "ansible_facts": {"default_ipv4": {"address": "10.9.9.9"}}}) \
        == "192.0.2.1"


def test_a_host_name_falls_back_to_the_default_address_from_facts():
    assert node_address({"ansible_host": "cp1.example.test",
                         "ansible_facts": {"default_ipv4": {"address": "10.9.9.9"}}}) == "10.9.9.9"


def test_no_address_names_the_host_and_the_variable():
    with pytest.raises(AnsibleFilterError, match="no address for cp3: set kubeha_node_address"):
        node_address({"inventory_hostname": "cp3", "ansible_host": "cp3.example.test"})


def test_a_default_instead_of_the_failure():
    assert node_address({"inventory_hostname": "cp3", "ansible_host": "cp3.example.test"}, "") == ""
