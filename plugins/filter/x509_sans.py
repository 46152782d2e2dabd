# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: x509_sans
short_description: The subject alternative names of a PEM certificate
version_added: 0.1.0
description:
  - Reads the first certificate of a PEM text on the controller with the C(cryptography) library and returns its
    DNS names and IP addresses, so a role can tell whether a certificate carries the names it should without any
    tool on the host.
  - Fails with a message when the text holds no certificate or C(cryptography) is missing on the controller.
options:
  _input:
    description: PEM text of a certificate (for example the decoded C(content) of M(ansible.builtin.slurp)).
    type: str
    required: true
requirements:
  - cryptography (on the controller)
"""

EXAMPLES = r"""
- name: Read the API server certificate
  ansible.builtin.slurp:
    src: /etc/kubernetes/pki/apiserver.crt
  register: apiserver_crt

- name: Names the certificate lacks
  ansible.builtin.debug:
    msg: "{{ ['api.example.test', '192.0.2.10'] | difference(apiserver_crt.content | b64decode | kubeha.cluster.x509_sans) }}"
"""

RETURN = r"""
_value:
  description: The DNS names, then the IP addresses (as text), in the certificate's order.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - reported when the filter is used
    x509 = None


def x509_sans(pem):
    if x509 is None:
        raise AnsibleFilterError("x509_sans needs the Python library cryptography on the controller")
    try:
        cert = x509.load_pem_x509_certificate(to_bytes(pem))
    except ValueError as exc:
        raise AnsibleFilterError("x509_sans: the input is not a PEM certificate: %s" % exc)
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([str(n) for n in ext.get_values_for_type(x509.DNSName)]
            + [str(a) for a in ext.get_values_for_type(x509.IPAddress)])


class FilterModule(object):
    def filters(self):
        return {"x509_sans": x509_sans}
