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

# The conversation in an incident thread (bot/conversation.py).
CONVERSATION_HELP = (
    "Ask me `why?`, `what changed?`, `show logs` or `what fixed this last time?` - or tell me the "
    'real cause ("root cause was actually the DB pool") and I will remember it.'
)
NO_CHANGES = "No rollout of {service} in its recent history ({count} revisions read)."
NO_CHANGES_READ = "I could not read the rollout history of {service}."
CORRECTION_NOTED = "Noted: {what}. I will use it for the next similar incident."
CORRECTION_UNCLEAR = (
    "I could not tell which cause you mean; name it, e.g. "
    '"root cause was actually the connection pool" or "a rollback fixed it".'
)
LLM_UNAVAILABLE = "(the LLM did not answer: {why}; this answer comes from the evidence alone)"
