"""Review before publishing: a person watches each render and approves it, or pays for another.

Shows: a human decision between a paid render and its publication, with the standard provider's
Human-in-the-loop operators (Airflow 3.1+). Each round renders with wan2.7 and stores the video
(``output_path``), then asks for a decision in Airflow's UI (Required actions), in a form that links
to the run's Videos tab (the provider's UI plugin plays the stored copy) and shows the prompt, the
cost and where the video is kept. Approve: ``publish_<n>`` emits an asset event whose extra records
the decision, who made it, the round, the remote task and the stored files. Reject: the next round
renders again, a new paid job, up to ``params.max_rounds`` renders; rejecting the last one ends the
run without publishing, and ``outcome`` says so. A DAG cannot loop, so the rounds are unrolled, each
with tasks of its own: a round's render is its own logical task, so a retry or a clear of it
reattaches to that render instead of paying again. Waiting for the person holds no worker slot.
Costs: 1 paid generation per round, at most ``max_rounds`` (default 3).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.providers.standard.operators.hitl import HITLBranchOperator
from airflow.sdk import Asset, Param, dag, get_current_context, task

from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.ui.routes import run_tab_url
from airflow_provider_apimart.version_compat import conf

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The rounds unrolled below: the most renders one run can pay for (``max_rounds`` may lower it).
ROUNDS = 3
#: A reviewer who never answers fails the review after this, and nothing more is paid or published.
RESPONSE_TIMEOUT = timedelta(days=3)
REVIEWED_VIDEO = Asset("apimart_reviewed_video")

APPROVE = "Approve and publish"
REJECT_AND_RENDER = "Reject and generate again (a new paid render)"
REJECT_AND_END = "Reject and end without publishing"


def videos_tab_url(dag_id: str, run_id: str) -> str:
    """The run's Videos tab, under the UI's own base path (``[api] base_url``) when it has one."""
    base_path = urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
    return base_path + run_tab_url(dag_id, run_id)


# [START howto_review_body]
REVIEW_BODY = """\
{% set video = ti.xcom_pull(task_ids='generate_' ~ round, key='apimart_task') -%}
**Round {{ round }} of {{ params.max_rounds }}.** Watch the video in this run's
[Videos tab]({{ videos_tab_url(dag.dag_id, run_id) }}) before you decide.

- Prompt: {{ params.prompt }}
- APIMart task `{{ video.remote_task_id }}`, cost {{ video.cost }}
{% for output in video.outputs %}- Stored at `{{ output.uri }}`
{% endfor %}
{% if round < params.max_rounds -%}
Rejecting pays for a new render (round {{ round + 1 }} of {{ params.max_rounds }}).
{%- else -%}
This is the last round: rejecting ends the run and publishes nothing.
{%- endif %}
"""
# [END howto_review_body]


# [START howto_review_round]
class ReviewRound(HITLBranchOperator):
    """One round's decision: approve branches to this round's ``publish``, reject to the next
    round's render or, at ``max_rounds``, to ``outcome`` (skipping everything between).

    The run's ``max_rounds`` is known only when the task runs, and the standard operator takes its
    options when the DAG is parsed: so this one is built with every option its round may offer and
    shows the reviewer the two that apply. It also pushes the decision and who made it as the
    ``decision`` XCom, for the asset event: the branch operator keeps no result of its own.
    """

    def __init__(self, *, round_number: int, **kwargs: Any) -> None:
        self.round_number = round_number
        branches = {APPROVE: f"publish_{round_number}", REJECT_AND_END: "outcome"}
        if round_number < ROUNDS:
            branches[REJECT_AND_RENDER] = f"generate_{round_number + 1}"
        super().__init__(
            task_id=f"review_{round_number}",
            subject=f"Publish this video? Round {round_number} of " + "{{ params.max_rounds }}",
            body=f"{{% set round = {round_number} -%}}\n{REVIEW_BODY}",
            options=list(branches),
            options_mapping=branches,
            response_timeout=RESPONSE_TIMEOUT,
            **kwargs,
        )

    @property
    def serialized_params(self) -> dict[str, dict[str, Any]]:
        """No fields to fill in: on Airflow 3.1 the form would otherwise show the DAG's params."""
        return {}

    def execute(self, context: Context) -> None:
        last_round = self.round_number >= context["params"]["max_rounds"]
        self.options = [APPROVE, REJECT_AND_END if last_round else REJECT_AND_RENDER]
        super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        # Pushed before branching: the branch ends the try by skipping the tasks not taken.
        if "chosen_options" in event:
            (choice,) = event["chosen_options"]
            decision = {
                "decision": choice,
                "approved": choice == APPROVE,
                "responded_by": event["responded_by_user"],  # {"id", "name"} of the reviewer
                "responded_at": event["responded_at"].isoformat(),
                "round": self.round_number,
            }
            context["ti"].xcom_push(key="decision", value=decision)
        return super().execute_complete(context, event)


# [END howto_review_round]


# [START howto_review_publish]
@task(outlets=[REVIEWED_VIDEO])
def publish(round_number: int) -> dict[str, Any]:
    """Publish the approved round: its asset event says what was approved, by whom and where it is.

    A DAG scheduled on ``REVIEWED_VIDEO`` finds all of it in the event's ``extra``.
    """
    context = get_current_context()
    video = context["ti"].xcom_pull(task_ids=f"generate_{round_number}", key="apimart_task")
    decision = context["ti"].xcom_pull(task_ids=f"review_{round_number}", key="decision")
    extra = {
        **decision,
        "remote_task_id": video["remote_task_id"],
        "model": video["model"],
        "cost": video["cost"],
        "outputs": video["outputs"],  # each {"uri", "sha256", "bytes", "content_type"}
    }
    context["outlet_events"][REVIEWED_VIDEO].extra.update(extra)
    print(f"Published round {round_number}, approved by {decision['responded_by']}: {video['outputs']}")
    return extra


# [END howto_review_publish]


@task(trigger_rule="none_failed")
def outcome() -> dict[str, Any]:
    """How the run ended, in one line: the round published, or that none was, and what it cost."""
    ti = get_current_context()["ti"]
    renders = [ti.xcom_pull(task_ids=f"generate_{n}", key="apimart_task") for n in range(1, ROUNDS + 1)]
    decisions = [ti.xcom_pull(task_ids=f"review_{n}", key="decision") for n in range(1, ROUNDS + 1)]
    paid = [render for render in renders if render]
    cost = round(sum(render["cost"] or 0 for render in paid), 4)
    approved = next((decision for decision in decisions if decision and decision["approved"]), None)
    if approved:
        print(
            f"Round {approved['round']} was approved and published; {len(paid)} paid render(s), cost {cost}."
        )
    else:
        print(f"No round was approved: {len(paid)} paid render(s), cost {cost}; nothing was published.")
    return {
        "published_round": approved["round"] if approved else None,
        "paid_renders": len(paid),
        "cost": cost,
    }


# [START howto_review_dag]
@dag(
    schedule=None,
    tags=["apimart", "example", "review"],
    params={
        "prompt": Param("A lighthouse on a cliff at dusk, waves below, slow aerial orbit", type="string"),
        "max_rounds": Param(
            ROUNDS,
            type="integer",
            minimum=1,
            maximum=ROUNDS,
            description="Renders a run may pay for before it ends without publishing",
        ),
    },
    user_defined_macros={"videos_tab_url": videos_tab_url},
)
def example_apimart_review() -> None:
    end = outcome()
    previous_review = None
    for round_number in range(1, ROUNDS + 1):
        generate = ApimartWan27Operator(
            task_id=f"generate_{round_number}",  # one logical task per round: its retries reattach
            prompt="{{ params.prompt }}",
            duration=5,
            resolution="720P",
            deferrable=True,
            poll_interval=POLL_INTERVAL,
            output_path=OUTPUT_PATH,
            retries=2,
        )
        review = ReviewRound(round_number=round_number)
        if previous_review is not None:
            previous_review >> generate  # the reject branch
        generate >> review >> publish.override(task_id=f"publish_{round_number}")(round_number) >> end
        previous_review = review


# [END howto_review_dag]


example_apimart_review()
