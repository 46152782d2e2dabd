# -*- coding: utf-8 -*-

# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What every module that runs kubeadm through plugins/module_utils/_kubeadm.py (class Kube) shares: its options
    # (argument spec: kubeadm_argument_spec) and its place in the action group kubeha.cluster.kubeadm
    # (meta/runtime.yml action_groups).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - The admin kubeconfig passed as C(--kubeconfig) to every kubeadm and kubectl command the module runs.
      - It must exist and be readable by the user the module runs as, which on a control-plane host usually
        means C(become).
    type: path
    default: /etc/kubernetes/admin.conf
  cri_socket:
    description:
      - The CRI socket written into the private configuration file the module gives kubeadm
        (C(nodeRegistration.criSocket)), for example V(unix:///var/run/cri-dockerd.sock). A path without a scheme
        gets C(unix://) in front.
      - When omitted, the first of the cri-dockerd, containerd and CRI-O sockets present on the host is used
        (cri-dockerd's when none is). kubeadm does not talk to the runtime for the commands the module runs;
        the socket only stops its auto-detection, which fails on Docker hosts where both C(containerd.sock) and
        C(cri-dockerd.sock) exist.
    type: str
  kubeadm_path:
    description:
      - Path to the kubeadm binary; the module fails when it is not an executable file.
      - By default kubeadm is looked up in C(/usr/local/bin), C(/usr/bin) and E(PATH), in that order.
    type: path
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs on the control-plane host it targets.
  action_group:
    support: full
    membership:
      - kubeha.cluster.kubeadm
    description:
      - In the action group C(kubeha.cluster.kubeadm) with the other modules that run kubeadm
        (M(kubeha.cluster.kubeadm_token), M(kubeha.cluster.kubeadm_certificate_key)), so C(module_defaults) for
        C(group/kubeha.cluster.kubeadm) set the shared options (O(kubeconfig), O(cri_socket), O(kubeadm_path)) once
        for all of them.
"""
