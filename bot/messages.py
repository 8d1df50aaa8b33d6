"""User-facing wording in one place, so tone stays consistent and reviewable.

The rule (issue 12 kept it, and says where it stops): every sentence Medic says to a person -
replies and notes in Slack, lines on the terminal, prompts, errors a user must act on, help - and
the headings of the thread's sections live here, grouped by where they are read. Code refers to
them by name and fills in the data; Slack code passes them to ``bot.slack.mrkdwn.markup``, which
escapes every value it fills in.

What stays beside its code, on purpose:
- the layout of one item's data in a renderer: bullets, field labels such as ``why:``,
  ``source:``, ``score 0.82``, ``*Service*`` (they are layout, reviewed with the layout);
- a command's one-line report of what it did, mostly its data (``ingested 12 postmortems as 40
  chunks``, ``upgraded from 0001 to 0002``, ``audit log intact: 16 entries``), beside the
  command that prints it, like a renderer's layout;
- command-line ``--help`` texts (typer's ``help=`` beside each option, reviewed with
  ``medic --help``) and Prometheus metric descriptions (operators' metadata, not replies);
- log messages for operators, and exception text raised in ``detectors/``, ``knowledge/`` and
  ``tools/`` (those packages never import ``bot``; their errors reach a user through a template
  here, e.g. ``SLACK_NOT_RECORDED``);
- documents laid out as a whole: the postmortem draft (``bot/postmortems/draft.py``) and the
  prompts (``prompts/``), each one template read as one text;
- HTTP answers to machines (the webhook's and the API's error bodies);
- data that carries words: the runbooks (``bot/runbooks/*.yaml``) and the signal catalog's
  metric and cause descriptions (``bot/diagnosis/signals.py``).
"""

APPROVE_PROMPT = "Approve: {preview}?"
STOPPED_NOT_INTERACTIVE = (
    "Not a terminal and --yes not given: proposals are recorded, nothing was executed."
)
NO_FINDINGS = "No metric left its normal band."
EXPLAINED_BY = "explained by {parts}"
FORECAST = "{name} reaches its limit {limit} in ~{eta} (between {earliest} and {latest})"
DRIFT = "{name} drifted: PSI {psi:.2f}, KS {ks:.2f}, median {magnitude:.1f}x the reference"
NO_TEMPLATES = "No new or surging log templates."
NO_SIMILAR = "No similar past incident in the memory."
NO_HYPOTHESIS = "No clear cause: the evidence is weak."
NO_CLEAR_CAUSE = "No clear cause: the evidence is weak. The best guesses, for what they are worth:"
NO_PROPOSALS = "No remediation to propose."
UNKNOWN_TIME = "an unknown time"
SOMEONE = "someone"  # a decision whose author was not recorded
NOTHING_EXECUTED = "Nothing was executed, so there is nothing to verify or remember yet."
REMEMBERED = "Remembered {id} ({outcome}) - the next similar incident will find it."
CLUSTER_REQUIRED = (
    "choose a cluster explicitly: --cluster sim (the simulated demo cluster) or set MEDIC_CLUSTER"
)
# --- configuration (bot/config.py) -----------------------------------------------------------
CONFIG_INVALID = "invalid configuration: {where}: {problem} ({origin})"
CONFIG_FROM_FILE = "in {path}"
CONFIG_FROM_VARIABLE = "from {variable}"
CONFIG_FROM_OPTION = "from --{option}"
CONFIG_UNREADABLE = "cannot read MEDIC_CONFIG file {path}: {reason}"
CONFIG_VARIABLE_NOT_JSON = (
    "invalid configuration: {variable} is not valid JSON (a list or a section set from the "
    "environment is JSON, e.g. MEDIC_WATCHED_CHANNELS='[\"C123\"]'; or set one key, e.g. "
    "MEDIC_VERIFICATION__DELAY_SECONDS=120)"
)
PROMETHEUS_URL_REQUIRED = (
    "metrics.source is prometheus but no server is set: set metrics.prometheus_url "
    "(MEDIC_METRICS__PROMETHEUS_URL), e.g. http://prometheus.monitoring:9090"
)
KUBE_PROMETHEUS_REQUIRED = (
    "cluster kube reads its metrics from Prometheus: set metrics.prometheus_url "
    "(MEDIC_METRICS__PROMETHEUS_URL), e.g. http://prometheus.monitoring:9090"
)
KUBE_HAS_NO_METRICS = (
    "cluster kube has no metrics of its own: drop metrics.source: cluster (or set it to "
    "prometheus) and set metrics.prometheus_url"
)
# --- alert times (bot/alerts.py), the bounded investigation (bot/diagnosis/investigation.py)
ALERT_TIME_WITHOUT_ZONE = "has no timezone: send RFC 3339, e.g. 2026-01-15T08:00:00Z"
ALERT_TIME_TOO_EARLY = (
    "{value} is before 2000-01-01: not a real alert time (an unset or zero time, or a number in "
    "the wrong unit?)"
)
ALERT_TIME_TOO_LATE = (
    "{value} is more than a year ahead of this host's clock: not a real alert time"
)
WINDOW_AHEAD = (
    "the alert starts {ahead} ahead of Medic's clock (clock skew?): investigated up to now"
)
WINDOW_RECENT = (
    "the alert began {age} ago, before the longest window Medic reads "
    "(investigation.max_window_minutes = {longest}): investigated the most recent {longest}, "
    "whose baseline may already be abnormal"
)
WINDOW_SINCE_CAPPED = (
    "the window asked for ({asked}) is longer than the longest window Medic reads "
    "(investigation.max_window_minutes = {longest}, baseline included): investigated the most "
    "recent part"
)
WINDOW_SINCE_IGNORED = "ignored medic_since {value!r}: it {problem}"
WINDOW_USED = "Suspect window {start} to {end}, against {baseline_start} to {start}: {why}."
WINDOW_FROM_ALERT = "from a lead before the alert's start"
WINDOW_FROM_ONSET = "from the onset of {metric}, which was already abnormal at the alert"
WINDOW_AS_ASKED = "the last {span}, as asked"
LOG_LINES_CAPPED = (
    "read {kept} of {read} log lines (investigation.max_log_lines), evenly spread over the window"
)
INVESTIGATION_OUT_OF_TIME = (
    "it ran out of its {seconds:g} s budget (investigation.timeout_seconds) before {stage}"
)
INVESTIGATION_STOPPED = "Medic is stopping: stopped before {stage}; it resumes at the next start"
METRIC_NOT_INVESTIGATED = "metric {metric} not investigated: {why}"
METRICS_UNAVAILABLE = "metrics unavailable, continuing without them: {why}"
MEMORY_UNAVAILABLE = "incident memory unavailable: {why}"
LOGS_UNAVAILABLE = "logs unavailable, continuing without them: {why}"
WORKLOADS_UNAVAILABLE = "could not list the services around this one, ranking without them: {why}"
CANDIDATES_NOT_READ = (
    "metrics of {count} services around this one not read (out of time or unavailable): {names}"
)
CANDIDATE_LOGS_UNAVAILABLE = "logs of {service} unavailable, ranked on its metrics: {why}"
TEMPLATE_STATE_NOT_SAVED = "template state not saved: {why}"
ROLLOUT_HISTORY_UNREAD = "rollout history unavailable"  # the conversation looks for it in the notes
ROLLOUT_HISTORY_UNAVAILABLE = ROLLOUT_HISTORY_UNREAD + ", continuing without it: {why}"
# --- the planners' notes (bot/planners/): what they dropped and why ---------------------------
LLM_UNKNOWN_TOOL = "llm: unknown tool {tool!r} dropped"
LLM_BAD_ARGUMENTS = "llm: {tool} with arguments failing its schema: {problem}"
LLM_OTHER_WORKLOAD = (
    "llm: {tool} on {target} dropped: Medic acts only on the incident's workload {workload}"
)
LLM_PLAN_PROBLEM = "llm: SubmitPlan {problem}; dropped"
LLM_REPORTS_INJECTION = "the LLM reports instructions inside the data it was given"
LLM_UNCITED = "the LLM's hypothesis {cause!r} cited no evidence; ignored"
INVESTIGATION_INTERNAL_ERROR = "an internal error (the details are in Medic's log)"
STATE_UNAVAILABLE = "medic: not recorded: {reason}; try again in a minute"
ACT_SETTLED = "medic: settled an interrupted action: {change} -> {status}: {finding}"
ACT_NOT_APPROVED = (
    "Proposal {id} recorded, not approved: nothing was executed. Re-run with --yes, or approve "
    "it in Slack."
)

# --- the diagnosis, shown alike on the terminal and in Slack (bot/views.py) --------------------
HEADING_ABNORMAL = "What is abnormal"
HEADING_OUTLOOK = "What is coming, what drifted"
HEADING_LOGS = "What the logs say"
HEADING_CAUSES = "Likely causes"
HEADING_SIMILAR = "Similar past incidents"
HEADING_CHECKED = "Checked"
HEADING_ADVICE = "For a human"
HEADING_PROPOSALS = "Proposed actions"
AND_MORE = "and {count} more"
PLANNED_BY = "planned by {planners}"
NO_CLEAR_CAUSE_SHORT = "no clear cause"
DIAGNOSIS_SUMMARY = (
    "Medic investigated {incident} ({service}): {count} abnormal metric(s); most likely {cause}"
)
INVESTIGATED = "Investigated {series} series and the service's logs in {seconds:.2f} s."
SLACK_DIAGNOSIS_HEAD = (
    ":mag: *Medic investigated {incident}* - {service} in {namespace}: {series} series and the "
    "service's logs in {seconds:.2f} s"
)
VERIFICATION_OF = "Verification of {incident}: {verdict}"
RECOVERED = "recovered"
NOT_RECOVERED = "not recovered"
TERMINAL_VERIFICATION = "verification: {verdict}"
TERMINAL_OPENED = "opened {incident}"
TERMINAL_ATTACHED = "attached to open {incident}"

# --- decisions, shared by the terminal and Slack -----------------------------------------------
APPROVED_BY = "Approved by {user} at {when} - {summary}"
REJECTED_BY = "Rejected by {user}: {preview}"
WITHDRAWN = "Withdrawn: {reason} - {preview}"
DECISION_FAILED = "{preview}: {status} - {summary}"
ALERT_RESOLVED_REASON = "the alert resolved before anyone decided"
EXPIRED = "Expired: {preview}"
OUTCOME_FAILED = "failed: {outcome}"
OUTCOME_UNKNOWN = "outcome unknown: {outcome}"
OUTCOME_EXECUTING = "executing"

# --- Slack -------------------------------------------------------------------------------------
SLACK_APPROVE = "Approve"
SLACK_REJECT = "Reject"
SLACK_CANCEL = "Cancel"
SLACK_CONFIRM_APPROVE = "Approve this change?"
SLACK_CONFIRM_APPROVE_TEXT = "*{change}*\nDry run: {preview}"
SLACK_CONFIRM_REJECT = "Reject this change?"
SLACK_CONFIRM_REJECT_TEXT = "*{change}* will not run."
SLACK_HELP = "\n".join(
    (
        "*Medic* investigates alerts, proposes guarded fixes and remembers what worked.",
        "`/medic help` - this help",
        "`/medic investigate SERVICE [NAMESPACE] [since 30m] [cluster NAME]` - investigate a "
        "service now, in a new thread (by default from its symptoms' onset)",
        "`/medic search TEXT` - search past incidents and postmortems",
        "`/medic postmortem draft [INC-ID]` - a Markdown draft from the incident's timeline",
        "`/medic postmortem publish [INC-ID]` - the saved draft into the memory, for search",
        "`/medic status` - open incidents and pending proposals",
        "`/medic silence DURATION [INC-ID]` - silence the incident's alerts (`30m`, `2h`, `1d`)",
        "`/medic watch list|add|remove [SERVICE [NAMESPACE]]` - what the watch looks at before "
        "alerts fire",
        "Without an INC-ID, `postmortem` and `silence` use this channel's latest open incident.",
    )
)
SLACK_COMMAND_PROBLEM = ":warning: {problem}\n\n{help}"
SLACK_INVESTIGATING = "Investigating {service} in {namespace}: the findings follow in a new thread."
SLACK_MANUAL_ROOT = "Manual investigation of *{service}* ({namespace}) requested by <@{user}>"
SLACK_SEARCHING = "Searching for _{text}_..."
SLACK_NO_SEARCH_RESULTS = "Nothing found for _{text}_."
SLACK_DRAFTING = "Drafting the postmortem for {incident}: it follows as a file in its thread."
SLACK_NO_INCIDENT = (
    "No open incident with a thread in this channel: name one, e.g. `/medic {command} INC-0007`."
)
SLACK_UNKNOWN_INCIDENT = (
    "No incident {incident} with a Medic thread: check the id in `/medic status`."
)
SLACK_NOTHING_OPEN = "No open incidents and no pending proposals."
SLACK_REFUSED = "Not done: {reason}"
GROUPS_MISSING_SCOPE = (
    "missing_scope (the Slack app needs the {needed} scope: add it under OAuth & Permissions "
    "and reinstall the app)"
)
GROUPS_SLACK_ANSWERED = "Slack answered {error} to usergroups.list"
GROUPS_SLACK_UNREACHABLE = "Slack could not be asked ({failure})"
SLACK_SILENCED = "Silenced the alerts of {incident} for {duration} (by {user}): {summary}"
SLACK_VERIFYING = "verifying in {minutes:g} min"
SLACK_REMEMBERED = "Remembered {id} ({outcome}): the next similar incident will find it."
SLACK_NOT_REMEMBERED = (
    "{id} is not remembered: {reason}. The verification and the actions are in its timeline and "
    "the audit log."
)
SLACK_MORE_IN_FILE = "... (the full text is in the attached file)"
SLACK_FULL_TEXT_TITLE = "Full text: {filename}"
SLACK_FULL_TEXT_COMMENT = "The message above was too long for Slack; here it is in full."
SLACK_POSTMORTEM_TITLE = "Postmortem draft: {incident}"
SLACK_SEARCH_RESULTS = "*Results for _{text}_*"
SLACK_OPEN_INCIDENTS = "*{count} open incident(s)*"
SLACK_ALERT_RESOLVED = "The alert resolved: {count} pending proposal(s) withdrawn."
SLACK_INVESTIGATION_FAILED = (
    "The investigation of {incident} failed: {reason}. "
    "Try again with `/medic investigate {service} {namespace}`."
)
SLACK_INVESTIGATION_DEAD = (
    ":skull: The investigation of {incident} was interrupted {attempts} times (Medic stopped, was "
    "killed or ran out of memory while it ran) and will not be tried again. Investigate by hand "
    "with `/medic investigate {service} {namespace}`; Medic's log says where it stopped."
)
SLACK_PROPOSAL_GONE = "That proposal no longer exists."
# An action a stop interrupted, settled from its target's state (tools/reconcile.py).
SLACK_INTERRUPTED = {
    "succeeded": ":white_check_mark: `{change}` was interrupted when Medic stopped, after it took "
    "effect: {finding}. It will not be run again.",
    "failed": ":x: `{change}` was interrupted when Medic stopped, before it took effect: "
    "{finding}. It will not be run again; approve a new proposal if it is still needed.",
    "unknown": ":grey_question: `{change}` was interrupted when Medic stopped, and Medic cannot "
    "tell whether it took effect: {finding}. Check {target} by hand; it will not be run again.",
    "refused": ":no_entry_sign: `{change}` was approved, but Medic stopped before it started: "
    "{finding}.",
}
SLACK_RESUMED = (
    ":arrow_forward: `{change}` was approved just before Medic stopped, and had not started. "
    "Now: {finding}"
)
SLACK_NOT_RECORDED = "Not recorded: {reason}. Nothing was changed; please try again in a minute."
SLACK_NOT_FINISHED = (
    "Your decision was recorded, but Medic could not finish: {reason}. What became of it will be "
    "checked and posted in this thread once the state database answers again."
)
SLACK_BLOCKS_REFUSED = "\n\n(Slack refused this message's layout; shown as plain text.)"
# The conversation in an incident thread (bot/conversation.py).
CONVERSATION_HELP = (
    "Ask me `why?`, `why not checkout?`, `what changed?`, `show logs` or `what fixed this last "
    'time?` - or tell me the real cause ("root cause was actually the DB pool") and I will '
    "remember it."
)
MENTION_HELP = (
    "I answer in an incident's thread: mention me there with `why?`, `what changed?`, `show logs` "
    "or `what fixed this last time?`, or tell me the real cause. `/medic help` lists my commands."
)
MENTION_INVESTIGATING = (
    "Still investigating {incident}: ask again once its diagnosis is in this thread."
)
MENTION_NO_DIAGNOSIS = (
    "The investigation of {incident} failed, so I have no evidence to answer from. "
    "Try `/medic investigate {service} {namespace}`."
)
CORRECTED_CAUSE = "the root cause was {cause}"
CORRECTED_FIX = "what fixed it was {fix}"
PERSON_SAID = "{by} said: {text!r}."
MOST_LIKELY = "Most likely: {cause} (score {score:.2f})."
ALSO_POSSIBLE = "Also possible: {causes}"
WEAK_GUESSES = "Weak guesses: {causes}"
CHANGE_AFTER_SYMPTOMS = "{change}, after the symptoms began"
CHANGE_TOO_EARLY = "{change} ({at}), too long before to matter"
PAST_INCIDENT = "{id} ({similarity:.2f} similar): {title}. Done: {done} -> {outcome}."
NOTHING_RECORDED = "nothing recorded"
CAUSE_CORRECTED = "(cause corrected by people)"
NO_CHANGES = "No rollout of {service} in its recent history ({count} revisions read)."
NO_CHANGES_READ = "I could not read the rollout history of {service}."
CORRECTION_NOTED = "Noted: {what}. I will use it for the next similar incident."
CORRECTION_UNCLEAR = (
    "I could not tell which cause you mean; name it, e.g. "
    '"root cause was actually the connection pool" or "a rollback fixed it".'
)
LLM_UNAVAILABLE = "(the LLM did not answer: {why}; this answer comes from the evidence alone)"

# --- Where the fault started (issue 14): proposals on the origin --------------------------------
ORIGIN_METRICS_UNAVAILABLE = (
    "metrics of {service} (the likely origin) unavailable, its remedies planned without them: {why}"
)
ORIGIN_LOGS_UNAVAILABLE = (
    "logs of {service} (the likely origin) unavailable, its remedies planned without them: {why}"
)
ORIGIN_IS_A_DEPENDENCY = (
    "{origin}, which {service} calls, deviated first and leads the ranking of the services around "
    "it"
)
AFFECTED_DOWNSTREAM = (
    "{service} is affected downstream of {origin}: acting on {service} would not help, so "
    "remedies are proposed on {origin}"
)
ORIGIN_LEADS = (
    "{origin} turned abnormal first and leads the services around {service}, though no call from "
    "{service} to {origin} is known: remedies are proposed on {origin}; check how {service} "
    "depends on it"
)

# --- Where the fault started (issue 14): the thread, the terminal, "why not X?" -----------------
# The thread and the terminal (bot/views.py builds the sentences, each renderer lays them out).
HEADING_ORIGIN = "Where it started"
ORIGIN_ELSEWHERE = "Most likely origin: {origin} ({signal} out of the ordinary{when}); {path}."
ORIGIN_ITSELF = (
    "Most likely origin: {service} itself ({signal} out of the ordinary{when}); the {count} other "
    "service(s) looked at ({names}) show weaker evidence."
)
ORIGIN_MODEL = (
    "Most likely origin: {service} itself - the model it serves ({cause}); the ranking of the "
    "{count} service(s) around it cannot see a model's quality, and the strongest there, {leader}, "
    "is not where this started."
)
ORIGIN_UNCLEAR = (
    "No service stands out as the origin among the {count} looked at; the strongest evidence, "
    "weak, is on {origin}."
)
ORIGIN_SIGNAL = "behaviour"  # when no kind of evidence stands out
ORIGIN_SINCE = " since {began}"
ORIGIN_BEFORE = " since {began}, {minutes} min before {mark}"
ORIGIN_AFTER = " since {began}, {minutes} min after {mark}"
ORIGIN_AS = " since {began}, as {mark}"
SYMPTOM_MOVED = {"up": "{service}'s {symptom} rose", "down": "{service}'s {symptom} fell"}
SYMPTOM_DEVIATED = "{service} deviated"
ORIGIN_PATH = {
    "calls": "{service} calls it and is affected downstream",
    "calls_via": "{service} calls it through {between} other service(s) and is affected downstream",
    "called_by": "it calls {service}",
    "called_by_via": "it calls {service} through {between} other service(s)",
    "namespace": "no call between it and {service} is known",
}
# One candidate's facts, joined by "; " after its name and score.
RELATION = {
    "alerting": "the alerting service",
    "calls": "called by {service}",
    "calls_via": "called by {service} through {between} other service(s)",
    "called_by": "calls {service}",
    "called_by_via": "calls {service} through {between} other service(s)",
    "namespace": "same namespace as {service}, no known call",
    "unknown": "how it relates to {service} is unknown",
}
DOWNSTREAM_OF = "downstream of {origin}"
FIRST_DEVIATED = "first deviated at {began}"
NO_TIMED_DEVIATION = "no timed deviation"
LOGS_READ = "logs and metrics read"
METRICS_ONLY = "metrics read, logs not"
ORIGINS_LOOKED_AT = (
    "{count} service(s) looked at around {service} (what it calls, what calls it, the namespace's "
    "workloads); logs read for {logs}."
)
DIAGNOSIS_SUMMARY_ORIGIN = "; likely origin: {origin}"
# `@medic why not X?` (bot/why_not.py): X is the person's text, quoted with !r where it may be
# no service at all.
WHY_NOT_NO_NAME = "Which service? Ask e.g. `why not checkout?`."
WHY_NOT_NO_RANKING = (
    "I did not rank the services around {service} for this incident (a single service, no "
    "metrics to compare, or a diagnosis made before Medic ranked them), so I cannot compare "
    "{name!r} with it."
)
WHY_NOT_NOT_LOOKED_AT = (
    "{name!r} was not among the {count} service(s) I looked at around {service}: {names}. I look "
    "at what {service} calls and what calls it (the call graph, `dependencies:` in the "
    "configuration), then the other workloads of {namespace}, at most "
    "investigation.max_candidates in all."
)
WHY_NOT_UNREAD = (
    "{name} was among the services I looked at ({relation}), but its metrics could not be read, "
    "so it was not ranked."
)
WHY_NOT_IS_ORIGIN = "{name} is what I rank first (score {score:.2f}). {headline}"
WHY_NOT_RANK = (
    "{name} is number {rank} of {count} (score {score:.2f}; {facts}); the most likely origin is "
    "{origin} (score {origin_score:.2f})."
)
WHY_NOT_DOWNSTREAM = "{name} calls {origin} and is affected downstream: {timing}."
WHY_NOT_DOWNSTREAM_VIA = (
    "{name} calls {origin} through {between} other service(s) and is affected downstream: {timing}."
)
WHY_NOT_AFTER = (
    "{name} turned abnormal at {began}, {minutes} min after {origin} did ({origin_began})"
)
WHY_NOT_BEFORE = (
    "{name} turned abnormal at {began}, {minutes} min before {origin} did ({origin_began}), but "
    "{origin}'s evidence is clearer"
)
WHY_NOT_SAME_TIME = "{name} turned abnormal at {began}, as {origin} did"
WHY_NOT_UNTIMED = "when {name} turned abnormal is not known"
WHY_NOT_QUIET = "{name} showed nothing unusual in what I read ({read}) from {start} to {end}."
WHY_NOT_WEAK = (
    "{name}'s evidence is weak: no kind of it is clearly beyond what is usual for {name}, in what "
    "I read ({read}) from {start} to {end}."
)
WHY_NOT_READ_ALL = "its metrics and logs"
WHY_NOT_READ_METRICS = "its metrics; its logs were not read, as only the highest on metrics are"
WHY_NOT_EVIDENCE = "Its evidence:"
WHY_NOT_NO_EVIDENCE = "Nothing in its evidence stands out."

# --- The model registry (issue 15): MLflow, the simulated model, `--mlflow` on evaluations ------
# `medic eval ... --mlflow` (bot/evaluation/tracking.py); {store} has no credentials in it.
MLFLOW_URI_INVALID = (
    "--mlflow-uri {uri!r} is not an http(s) URI of an MLflow server (e.g. http://mlflow:5000); "
    "give --mlflow alone for the embedded store in the data directory"
)
MLFLOW_NOT_LOGGED = (
    "the evaluation ran (its result is above) but was not logged to MLflow at {store}: {reason}"
)
MLFLOW_NO_ANSWER = "no complete answer within {seconds:g} s"
MLFLOW_CANNOT_CONNECT = "cannot connect ({error})"

# --- Model-aware investigation (issue 15): serving version, drift against training, quality ----
# The origin ranking led elsewhere, but the alerting service's own model is at fault (bot/flow.py).
MODEL_IS_THE_ORIGIN = (
    "The ranking of the services around {service} led to {leader}, but the model {service} serves "
    "is at fault ({cause}): the remedies act on {service}, not on {leader}."
)
# (bot/diagnosis/model.py, bot/views.py and the renderers): {model}, {feature}, {version} and the
# registry's descriptions are the registry's or a label's text, escaped where rendered.
HEADING_MODEL = "The model"
MODEL_SERVING = "Serving version {version} of {model}{since}"
MODEL_SERVING_UNKNOWN = "Serving {model}: which version could not be told"
MODEL_SINCE = " since {since}"
MODEL_SINCE_ROLLOUT = " (since the rollout of {since})"
MODEL_ALIAS_MOVED = "alias {alias} moved from version {previous} to {version} at {at}"
MODEL_ALIAS_SET = "alias {alias} set to version {version} at {at}"
MODEL_NEW_VERSION = "new version {version} registered at {at}"
MODEL_OFFLINE_METRICS = "offline metrics of version {version}: {metrics}"
MODEL_DRIFT_LINE = (
    "{feature}: PSI {psi:.2f}, KS {ks:.2f}{pvalue}, {outside:.0%} outside the training range"
)
MODEL_DRIFT_PVALUE = " (p {pvalue:.2g})"
MODEL_NO_DRIFT = (
    "Live inputs match version {version}'s training data ({count} feature(s) compared)."
)
MODEL_DRIFT_HEAD = "Inputs against version {version}'s training data, most moved first:"
MODEL_DRIFT_PREVIOUS = (
    "against version {version}'s training data: {drifted} of {count} feature(s) drifted"
)
MODEL_PREDICTIONS = "predictions: PSI {psi:.2f}, KS {ks:.2f} against the training outputs"
MODEL_QUALITY_FELL = "{metric} fell to {observed:.3g} from {baseline:.3g} (its own history)"
MODEL_QUALITY_NORMAL = "{metric} normal: {observed:.3g} (its history {baseline:.3g})"
MODEL_CHART_TITLE = "{feature}: version {version}'s training data vs live"
MODEL_CHART_TRAINING = "training (version {version})"
MODEL_CHART_LIVE = "live"
# notes: the investigation goes on without what they name
MODEL_REGISTRY_UNAVAILABLE = (
    "Model registry ({registry}) could not be read for {model}: {why}. The model's versions and "
    "training data are not part of this diagnosis."
)
MODEL_NO_REGISTRY = (
    "{service} serves model {model}, but no model registry is configured: its versions and "
    "training data are not part of this diagnosis."
)
MODEL_LABEL_INVALID = "{service}'s {label} label is not a model name; the model was not looked at."
MODEL_VERSION_UNKNOWN = (
    "Version {version} of {model}, which the pod template names, is not among its {count} newest "
    "versions in the registry."
)
MODEL_NO_QUALITY = (
    "{service}'s quality proxy {metric} was not measured in the window (a metric of "
    "metrics.queries; investigation.model.quality_metric), so a fall in quality is not judged."
)
MODEL_ALIAS_UNSET = "Alias {alias} of {model} names no version; which version serves is unknown."
MODEL_NO_PROFILE = "Version {version} of {model} has no training profile; input drift not judged."
MODEL_FEATURES_UNAVAILABLE = "Live feature histograms of {service} could not be read: {why}"
MODEL_NO_FEATURES = (
    "{service} exports no model_input_feature histograms in the window; input drift not judged."
)
MODEL_FEATURES_SKIPPED = "{count} feature(s) not compared ({first})."
MODEL_FEATURES_CAPPED = "{count} feature(s) compared of {read} (investigation.model.max_features)."
MODEL_OUT_OF_TIME = "No time left in the investigation's budget to {what}."
# evidence for the hypotheses (input-drift, model-regression)
MODEL_EVIDENCE_DRIFT = "live inputs drifted against version {version}'s training data: {features}"
MODEL_EVIDENCE_DRIFT_ALL = "; also against version(s) {versions}"
MODEL_EVIDENCE_QUALITY = "; {quality}"
MODEL_EVIDENCE_REGRESSION = (
    "{quality} after alias {alias} moved from version {previous} to {version} at {at}; {inputs}: "
    "go back to version {previous}"
)
MODEL_EVIDENCE_INPUTS_NORMAL = "inputs within version {version}'s training data"
MODEL_EVIDENCE_INPUTS_NEW = (
    "inputs outside version {version}'s training data ({features}) but within version {previous}'s"
)
MODEL_VERDICT_FINE = "The model is not the cause: inputs match its training data and {quality}."

# --- MLOps actions (issue 15): promote_model, retrain, their proposals and verification ---------
MODEL_NOT_SERVED = (
    "{tool} dropped: {target} serves no registered model that Medic can see (pod template label "
    "{label})"
)
VERIFY_ALIAS_HOLDS = "alias {alias} of {model} names version {version}"
VERIFY_ALIAS_MOVED = "alias {alias} of {model} names {now}, not version {version}"
VERIFY_NO_VERSION = "no version"
VERIFY_VERSION = "version {version}"
VERIFY_NOT_TRAINED = "training of {model} has not registered a new version yet ({was})"
VERIFY_STILL_NEWEST = "newest is still version {version}"
VERIFY_NONE_REGISTERED = "no version registered"
VERIFY_TRAINED = "training of {model} finished: version {version} registered"
VERIFY_SERVING = "{alias} of {model} serves version {version}"
VERIFY_NOT_SERVING = "{alias} of {model} serves {now}, not the new version {version}"
VERIFY_REGISTRY_DOWN = "registry: {error}"
VERIFY_QUALITY_UNJUDGED = (
    "quality proxy {metric}: was not among the abnormal metrics, so its recovery could not be "
    "judged"
)

# --- The watch (issue 15): heads-up threads before alerts fire ----------------------------------
WATCH_HEADSUP_LIMIT = (
    ":eyes: *Heads-up: {service}* ({namespace}) - {metric} is heading for its limit: {level} now, "
    "{limit} ({origin}) in about {eta} at its trend. No alert has fired yet."
)
WATCH_HEADSUP_ANOMALY = (
    ":eyes: *Heads-up: {service}* ({namespace}) - {metric} went {direction} at {since}: {level} "
    "against a usual {baseline}. No alert has fired yet."
)
WATCH_HEADSUP_SATURATED = (
    ":eyes: *Heads-up: {service}* ({namespace}) - its replicas run hot: CPU at {level}% of the "
    "limit. Scaling out before the latency alert: {replicas} -> {wanted} replicas."
)
WATCH_HEADSUP_OVER = (
    ":eyes: *Heads-up: {service}* ({namespace}) - {replicas} replicas for a load {wanted} would "
    "carry: CPU stayed below {level}% of the limit (95th percentile) for {hours} h."
)
WATCH_HEADSUP_DRIFT = (
    ":eyes: *Heads-up: {service}* ({namespace}) - the inputs of its model moved away from its "
    "training data: {subject} (PSI {level})."
)
WATCH_PROPOSED = "Proposed: {action}. The guard says: {verdict}. Nothing changes unless approved."
WATCH_HEADSUP_FOOTER = (
    "Low severity, from the watch before any alert. If an alert for {service} fires, its "
    "incident continues in this thread."
)
WATCH_METRICS_DOWN = (
    "The metrics could not be read ({reason}): {count} service(s) not watched in this pass: "
    "{services}."
)
WATCH_LIMITS_DOWN = (
    "Limits could not be read from Prometheus ({reason}) for {count} service(s) ({services}); "
    "their configured limits and shares were used."
)
WATCH_CHECK_FAILED = "The {check} check failed on {count} service(s) ({services}); see the log."
WATCH_ONCE_ONLY = "`medic watch` runs one pass with --once; `medic serve` runs it on a schedule."
WATCH_NOTHING = "The watch found nothing worth a heads-up in {count} service(s)."
WATCH_NO_TARGETS = (
    "Nothing to watch: set watch.services or watch.namespaces, or `/medic watch add SERVICE`."
)
WATCH_LIST_EMPTY = (
    "Nothing is watched. `/medic watch add SERVICE [NAMESPACE]` adds a service; watch.services "
    "in the configuration too."
)
WATCH_LIST_HEADER = "Watched services ({count}):"
WATCH_LIST_OPEN = "Open heads-ups ({count}):"
WATCH_ADDED = "Now watching {service} in {namespace}: its heads-ups go to the watch's channel."
WATCH_ALREADY = "{service} in {namespace} is watched already."
WATCH_REMOVED = "No longer watching {service} in {namespace} from Slack."
WATCH_NOT_WATCHED = "{service} in {namespace} is not among the services added from Slack."
WATCH_CONFIGURED = (
    "{service} in {namespace} is watched by the configuration (watch.services or "
    "watch.namespaces); remove it there."
)
WATCH_NOT_ALLOWED = (
    "Only an approver of actions in {namespace} may change what the watch looks at there."
)

# --- Nezha through the live path (issue 14): log budget and history ----------------------------
CANDIDATE_LOGS_LATE = (
    "logs of {count} services around this one not read in the time for logs, ranked on their "
    "metrics: {names}"
)
CANDIDATES_LOGS_UNAVAILABLE = (
    "logs of {count} services around this one unavailable, ranked on their metrics: {names}: {why}"
)

# --- Origin history kept in the state database (issue 14) ---------------------------------------
ORIGIN_HISTORY_UNREAD = (
    "earlier investigations of this namespace unreadable, so each service was ranked against the "
    "others instead of its own past: {why}"
)
ORIGIN_HISTORY_UNKEPT = "this investigation's evidence was not kept for the next ones: {why}"

# --- Model gaps: prediction drift, ML origins, @medic on the model, registry down (issue 15) -----
# the look at the origin's model, shown in the thread when the alerting service serves none
MODEL_AT_ORIGIN = "At the origin {service}: {headline}"
# `@medic` questions about the model, answered from the kept look (bot.model_questions)
MODEL_Q_NONE = (
    "{service} serves no registered model Medic can see: its pod template has no {label} label "
    "(or annotation), so no model was looked at."
)
MODEL_Q_UNTOLD = "{service} declares model {model}, but which version serves could not be told"
MODEL_Q_SERVING = "{service} serves {model} version {version}"
MODEL_Q_ALIAS = " (alias {alias})"
MODEL_Q_SINCE = " since {at}"
MODEL_Q_PREVIOUS = "The version before it: {previous}."
MODEL_Q_METRICS = "Offline metrics of version {version}: {metrics}."
MODEL_Q_NOT_JUDGED = "Input drift of {model} was not judged"
MODEL_Q_DRIFTED = (
    "Yes: against version {version}'s training data, {count} of {compared} features drifted: "
    "{features}."
)
MODEL_Q_NOT_DRIFTED = (
    "No: the {compared} features compared are within version {version}'s training data (the "
    "most moved: {features})."
)
MODEL_Q_EARLIER = "Against version {version}'s training data: {drifted} of {compared} drifted."
MODEL_Q_OUTPUTS = "Its outputs: prediction PSI {psi:.2f}, KS {ks:.2f} ({verdict})."
MODEL_Q_OUTPUTS_MOVED = "moved away from its training predictions"
MODEL_Q_OUTPUTS_SAME = "within its training predictions"
MODEL_Q_NO_OUTPUTS = "Its outputs were not compared (no prediction histogram)."
MODEL_Q_QUALITY = "Quality: {quality}."
MODEL_Q_BACK_DRIFT = (
    "Going back to an earlier version of {model} would not help: the live inputs drifted against "
    "the training data of every recent version read ({versions}), so each was trained before "
    "the data changed. Retraining on recent data is the remedy."
)
MODEL_Q_BACK_REGRESSION = "Going back is the remedy here: {evidence}."
MODEL_Q_RETRAIN_REGRESSION = (
    "Retraining would rerun the pipeline that produced version {version} on the same data; the "
    "inputs are as version {previous} was trained on and it did better, so going back to it is "
    "the remedy."
)
MODEL_Q_RETRAIN_DRIFT = "Retraining is the remedy here: {evidence}."
MODEL_Q_SERVING_CHANGED = (
    "Neither would help first: {evidence}. Look at what changed in {service} (`what changed?`)."
)
MODEL_Q_FINE = "The model is not the cause, so {what} would change nothing: {facts}."
MODEL_Q_UNJUDGED = (
    "Whether {model} is at fault could not be judged, so Medic proposes no model remedy: {why}."
)
MODEL_Q_PROPOSED = "Proposed in this thread: {actions}."
MODEL_Q_ROLLBACK_WHAT = "rolling it back"
MODEL_Q_RETRAIN_WHAT = "retraining it"
MODEL_Q_FACT_INPUTS = "inputs within version {version}'s training data"
MODEL_Q_FACT_NO_INPUTS = "inputs not compared"

# prediction drift weighed as evidence (bot.diagnosis.model_evidence)
MODEL_EVIDENCE_OUTPUTS_MOVED = (
    "; its outputs moved with them (prediction PSI {psi:.2f}, KS {ks:.2f}): the data changed, "
    "not the model"
)
MODEL_EVIDENCE_OUTPUTS_STILL = (
    "; its outputs stayed within its training predictions (PSI {psi:.2f}, KS {ks:.2f})"
)
MODEL_EVIDENCE_OUTPUTS_SIGN = (
    "its outputs moved away from its training predictions (PSI {psi:.2f}, KS {ks:.2f})"
)
MODEL_EVIDENCE_OUTPUTS_TOO = "; its outputs moved too (prediction PSI {psi:.2f})"
MODEL_EVIDENCE_SERVING = (
    "the outputs of version {version} moved away from its training predictions (PSI {psi:.2f}, "
    "KS {ks:.2f}) while its inputs stayed within its training data and its alias did not move: "
    "the model or how it is served changed (a rollout, preprocessing, a feature store)"
)

# --- The watch: approvable right-sizing, discovered quotas and disks (issue 15) ------------------
WATCH_HEADSUP_WHERE = " ({where})"
WATCH_INCIDENT_SUMMARY = "heads-up from the watch: {service} ({namespace}) {concern}"
WATCH_RATIONALE = "{concern}: CPU at {level}% of the limit"
WATCH_OFFER = (
    "*{incident}* - the change the watch proposes for {service} ({namespace}). Approve it here "
    "(or `medic approve {proposal}`); it runs once, through the guard, and is verified after."
)
WATCH_PROPOSAL_LINE = "Proposal {proposal} ({status}): approve with `medic approve {proposal}`."
WATCH_VERIFY_UNREAD = "could not re-read the service after the change: {reason}"
WATCH_VERIFY_REPLICAS = "replicas: {replicas} wanted {wanted}, {ready} ready"
WATCH_VERIFY_NO_CPU = "CPU utilisation: no recent samples"
WATCH_VERIFY_CPU = (
    "CPU utilisation {after}% after the change, {verdict} the {ceiling}% the replicas may run "
    "at (before: {before}%)"
)
WATCH_NOTHING_CHANGED = "nothing was changed: no approved change of this heads-up succeeded"
APPROVE_NO_PROPOSAL = "No proposal {id}: `medic watch --once` and `medic act` print the ids."
APPROVE_NOT_PENDING = "Proposal {id} is {status}, not waiting for approval."

# --- Alert receivers: Grafana, Datadog, PagerDuty, Opsgenie, generic; write-back (issue 16) -------
SLACK_SOURCE_FROM = "from {source} ({ids})"
WRITEBACK_NOTE = (
    "Medic's diagnosis of {incident} ({namespace}/{service}):\n{summary}\n{proposals}"
    "Thread: {thread}"
)
WRITEBACK_PROPOSALS = "Proposed, waiting for approval in Slack: {proposals}\n"
SLACK_WRITEBACK_FAILED = (
    "The diagnosis could not be added to the {target}: {reason}. It is only in this thread."
)

# --- Evidence: Loki, Elasticsearch/OpenSearch, Kubernetes Events, VictoriaMetrics (issue 16) ------
EVENT_EVIDENCE = "Kubernetes events ({count} in the window), latest: {event}"
EVENTS_UNAVAILABLE = "Kubernetes events unavailable, continuing without them: {why}"
WHAT_CHANGED_EVENTS = "Kubernetes events in the window:"

# --- Clusters: the clusters map (issue 16) ------------------------------------------------------
CLUSTER_UNKNOWN = (
    "alert {alert} names cluster {cluster} ({label} label), which is not in the clusters map "
    "(known: {known}); Medic did not investigate it and proposes nothing there - add the "
    "cluster to the configuration, or fix the label"
)
CLUSTER_NAME_UNKNOWN = "no cluster named {cluster} in the clusters map (known: {known})"
CLUSTER_NOT_CONFIGURED = (
    "no clusters map is configured: Medic works on one cluster here, so --cluster-name / "
    "cluster {cluster} means nothing; set clusters and default_cluster to name several"
)
CLUSTERS_ACT_NEEDS_NAME = (
    "with several clusters, `medic act` needs --cluster-name (one of: {known}); an action is "
    "never sent to a cluster Medic picked for you"
)

# --- Postmortem search: relevance, one document one result (issue 17) --------------------------
SEARCH_NO_CLOSE_MATCH = "no close match for {text!r}; the nearest ones:"
SEARCH_NOT_CLOSE = "(nearest, not a close match)"
SLACK_SEARCH_NO_CLOSE_MATCH = "*No close match for _{text}_* - the nearest ones:"
SLACK_SEARCH_NOT_CLOSE = "_(nearest, not a close match)_"
EVAL_QUESTIONS_UNREADABLE = "--queries {path}: {why}"

# --- Postmortem drafts (issue 17) and the simulated shop's exporter (issue 16) -------------------
POSTMORTEM_NO_INCIDENT = "no incident {incident!r}: give an id like INC-0001 (`/medic status`)"
POSTMORTEM_EMPTY = "the postmortem of {incident} is empty: nothing to publish"
POSTMORTEM_TOO_LONG = "the postmortem of {incident} is over {limit:,} bytes"
POSTMORTEM_NO_DRAFT = (
    "{incident!r} has no saved draft: run `medic postmortem draft {incident}` first, or give the "
    "finished FILE"
)
POSTMORTEM_UNREADABLE = "cannot use {file}: {why}"
POSTMORTEM_NOT_TEXT = "{file} is not UTF-8 text"
POSTMORTEM_FILE_TOO_LONG = "{file} is over {limit:,} bytes: not a postmortem"
POSTMORTEM_PUBLISHED = "published the postmortem of {incident} into the memory ({chunks} chunks)"
POSTMORTEM_WORDING_UNUSED = "\n_Medic's wording: {note}._\n"
POSTMORTEM_WORDED_BY_LLM = (
    "\n_Worded by the configured chat model from Medic's draft; its numbers, times, names and "
    "links were checked against the record._\n"
)
WORDING_EMPTY = "the model answered nothing"
WORDING_TOO_LONG = "the model's text is far longer than the draft"
WORDING_MARKUP = "the model wrote HTML or a link"
WORDING_UNSUPPORTED = "it states what the record does not: {facts}"
WORDING_UNAVAILABLE = "the model was not available: {why}"
WORDING_NOT_USED = "the model's wording was not used: {problem}"
SIM_EXPORT_HISTORY = (
    "wrote {history} of the simulated shop ({scenario}) to {file} ({size:.1f} MB of OpenMetrics): "
    "backfill it with `promtool tsdb create-blocks-from openmetrics {file} DATA_DIR`"
)
SIM_EXPORT_SERVING = (
    "serving the simulated shop ({scenario}, namespace {namespace}) at "
    "http://{host}:{port}/metrics - Ctrl-C stops it"
)
SIM_EXPORT_HISTORY_PROBLEM = "--history {text!r}: give a duration of at least 1m and at most 48h"
SIM_EXPORT_PORT_PROBLEM = "cannot serve on {host}:{port}: {why}"
SIM_EXPORT_NOTHING = "nothing to do: give --port to serve, --openmetrics FILE to write, or both"

# --- cli ---
USAGE_PROBLEM = "{problem} (see '{command} --help')"
NO_COMMAND = "give a command"

# --- search ---
SLACK_PUBLISHED = (
    "{user} published the postmortem of {incident} into the memory ({chunks} chunks): "
    "`/medic search` finds it now"
)
SLACK_PUBLISH_NO_DRAFT = (
    "{incident} has no saved draft: run `/medic postmortem draft {incident}` first"
)
SLACK_PUBLISH_NO_MEMORY = "this Medic keeps no postmortem memory to publish into"

# --- watch ---
WATCH_OFFERED_AGAIN = (
    "The change proposed for {service} expired unanswered and the condition still holds: "
    "proposed again below."
)
WATCH_HEADSUP_LIMIT_TAKEN_BY = (
    WATCH_HEADSUP_LIMIT + " What takes most of it: {consumers} (of {level} in use)."
)
MODEL_CHART_TITLE_ELSEWHERE = "{service}'s model {model} - {title}"

# --- reach ---
CLUSTER_UNKNOWN_MORE = (
    "{first} (and {more} more alert(s) of this notification naming no known cluster)"
)

# --- similar (lead) ---
# A listed match below the similarity threshold (`investigation.min_similarity`): the nearest
# the memory has, which a reader must not take for a precedent.
SIMILAR_WEAK = "weak match, not used in the diagnosis: "

# --- hostile ---
# `/medic postmortem draft` asked again while the same draft was just posted (two people at once).
SLACK_DRAFT_ALREADY_POSTED = (
    "The postmortem draft of {incident} was just drafted and is already in its thread: "
    "nothing in its record changed since."
)
# `medic search` whose data directory refuses its search indexes (read-only, full, in the way).
SEARCH_INDEXES_UNSAVED = (
    "warning: the search indexes could not be saved in {where} ({why}); "
    "the next search builds them again"
)
# An `@medic` answer from the chat model with a link the evidence does not hold: not given.
LLM_ANSWER_UNKNOWN_LINKS = (
    "(the LLM's answer was not used: it gives links the evidence does not hold ({count}); "
    "this answer comes from the evidence alone)"
)

# --- watch (2) ---
# When a limit comes, as a range: its fast bound to the trend's time ("25-43 min", "50 min-1.6 h")
WATCH_ETA_RANGE = "{soonest}-{eta}"
# The services named as taking a quota, when more take it than are named
WATCH_CONSUMERS_MORE = "{consumers} and {more} more"

# --- hostile ---
# A click whose button is not on the message where Medic showed that proposal (a button value
# carried to another message, channel or workspace): it decides nothing.
SLACK_NOT_THIS_MESSAGE = (
    "this button is not on the message where Medic showed that proposal; use the Approve and "
    "Reject buttons under the diagnosis in the thread of {incident}"
)

# --- replicas ---
# A request signed by Medic's Slack app but from another workspace or organisation than the one
# configured (a distributed app, an org-wide install): refused with a 403, one log line.
SLACK_OTHER_WORKSPACE = (
    "refused a Slack request from {what} {got}: Medic answers only {expected} ({key})"
)
