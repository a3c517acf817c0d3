"""The mock's own HTTP header names (vendor headers live with their vendor). Imports nothing."""

NAMESPACE_HEADER = "X-Mock-Namespace"  # which namespace a request belongs to
SCENARIO_HEADER = "X-Mock-Scenario"  # a job scenario for the job this request creates
FAULT_HEADER = "X-Mock-Fault"  # on an answer a fault rule made: the rule's id
