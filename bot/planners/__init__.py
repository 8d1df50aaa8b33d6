"""The planners: each turns an incident's evidence into candidate remedies with their support and
reasons - runbooks, memory of past incidents, what changed (a rollback), and an optional LLM.
``bot.planners.combine`` merges, checks and ranks what they propose."""
