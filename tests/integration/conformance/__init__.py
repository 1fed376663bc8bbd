"""Conformance suite for the Azure <validate-jwt> policy support (the ids C1-C140 are
those of docs/conformance.md).

cases.py       the one table of conformance cases (neutral form) + NOT_APPLICABLE and
               COVERED_ELSEWHERE
generators.py  to_xml(policy) / to_directives(policy) and the server-level config
runner.py      token minting, requests and checks shared by tests 300/310
report.py      the --conformance-report collector and writer
"""
