"""User-facing wording in one place, so tone stays consistent and reviewable."""

APPROVE_PROMPT = "Approve: {preview}?"
STOPPED_NOT_INTERACTIVE = (
    "Not a terminal and --yes not given: proposals are recorded, nothing was executed."
)
NO_FINDINGS = "No metric left its normal band."
NO_TEMPLATES = "No new or surging log templates."
NO_SIMILAR = "No similar past incident above the similarity threshold."
NO_HYPOTHESIS = "No clear cause: the evidence is weak."
NO_CLEAR_CAUSE = "No clear cause: the evidence is weak. The best guesses, for what they are worth:"
NO_PROPOSALS = "No remediation to propose."
NOTHING_EXECUTED = "Nothing was executed, so there is nothing to verify or remember yet."
REMEMBERED = "Remembered {id} ({outcome}) - the next similar incident will find it."
CLUSTER_REQUIRED = (
    "choose a cluster explicitly: --cluster sim (the simulated demo cluster) or set MEDIC_CLUSTER"
)
KUBE_NOT_AVAILABLE = "MEDIC_CLUSTER=kube is not available in this version yet; use --cluster sim"
ACT_NOT_APPROVED = (
    "Proposal {id} recorded, not approved: nothing was executed. Re-run with --yes, or approve "
    "it in Slack."
)
