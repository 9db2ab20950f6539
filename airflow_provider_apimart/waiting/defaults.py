"""The waiting defaults, apart from the poller that applies them, so a DAG parse reads them cheaply."""

from __future__ import annotations

#: APIMart's model pages advise polling every 5-10 s.
DEFAULT_POLL_INTERVAL = 10.0
#: The first read after a submit waits this long: the API's docs advise 5-10 s, and a trigger that
#: fires within a second or two of the deferral can meet a scheduler race in Airflow 3.3
#: (apache/airflow#72716) that fails the resumed task.
DEFAULT_FIRST_POLL_DELAY = 5.0
#: Up to this many seconds are added at random to the first wait, so a fan-out does not poll in step.
MAX_FIRST_POLL_JITTER = 2.0
#: The widest gap between two reads of a running task, however far it is from done: a render that
#: finishes much earlier than estimated is noticed within this bound.
DEFAULT_MAX_POLL_INTERVAL = 60.0
#: Failed status reads in a row (network, 429, 5xx, unreadable answers) tolerated before giving
#: up; with the shared backoff that is a few minutes of outage.
DEFAULT_MAX_FAILING_POLLS = 10
#: How long a task may stay in a status the docs do not name before the wait ends for good: a
#: status APIMart adds is read as "still running" for this long, then a person decides.
UNDOCUMENTED_STATUS_GRACE = 600.0
