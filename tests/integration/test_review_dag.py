"""The review example (example_dags/example_apimart_review.py), run by dag.test() against the
simulator, with a person's decisions given the way Airflow's UI gives them.

dag.test() runs no API server, so :class:`Reviewer` plays the person: a background thread waits
until a review task is parked in ``awaiting_input``, reads what the form shows (its subject, body
and options), and answers through the function behind Airflow's own REST route,
``PATCH .../hitlDetails``, as a signed-in user of the simple auth manager: the same validation,
the same ``responded_by`` record and the same resume of the parked task as a click in the UI.
That needs Airflow 3.3; on 3.1 and 3.2 only the DAG's shape is tested (see ``needs_airflow_3_3``).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import runpy
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from airflow_provider_apimart.version_compat import AIRFLOW_RELEASE, AIRFLOW_V_3_3_PLUS

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from airflow.sdk import DAG

    from airflow_provider_apimart.testing import ApimartSimulator

EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
DAG_ID = "example_apimart_review"
ROUNDS = 3
#: The options as the reviewer reads them: what a reject costs is in the words.
APPROVE = "Approve and publish"
REJECT_AND_RENDER = "Reject and generate again (a new paid render)"
REJECT_AND_END = "Reject and end without publishing"
PROMPT = "A red kite over the dunes"
#: A user of Airflow's simple auth manager, as the UI would sign them in.
REVIEWER_NAME = "reviewer"
#: What the reviewer's thread imports: the HITL REST route, its payload, the simple auth manager's user.
HITL_API_MODULES = (
    "airflow.api_fastapi.auth.managers.simple.user",
    "airflow.api_fastapi.core_api.datamodels.hitl",
    "airflow.api_fastapi.core_api.routes.public.hitl",
)
needs_airflow_3_3 = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason=f"Airflow {'.'.join(map(str, AIRFLOW_RELEASE))}: dag.test() runs a deferred task's trigger "
    "in-process, under a task supervisor that cannot answer HITLTrigger's GetHITLDetailResponse "
    "request ('Unhandled request'), so the review task fails at once; on 3.1 and 3.2 only a real "
    "triggerer runs HITLTrigger. On 3.3 the operator waits in awaiting_input, with no trigger.",
)


@dataclass(frozen=True)
class Review:
    """What the person saw in the form, and what they chose."""

    task_id: str
    subject: str
    body: str
    options: list[str]
    chosen: str


@dataclass
class Reviewer:
    """Answers review ``n`` with ``decisions[n - 1]`` once it waits for input, from a thread.

    A review beyond the scripted ones is answered with "approve" (which ends any run) and still
    recorded, so a DAG that asks too often fails the test's assertions instead of hanging it.
    """

    decisions: list[str]
    reviews: list[Review] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Reviewer:
        import_the_hitl_api()
        self._thread = threading.Thread(target=self._run, name="hitl-reviewer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.errors:
            raise self.errors[0]

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self._answer_waiting_reviews()
            except Exception as error:  # reported by __exit__, in the test's thread
                self.errors.append(error)
                self._fail_waiting_reviews()
                return

    def _answer_waiting_reviews(self) -> None:
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
        from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            waiting = session.execute(
                select(TaskInstance.run_id, TaskInstance.task_id, HITLDetail)
                .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
                .where(
                    TaskInstance.dag_id == DAG_ID,
                    TaskInstance.state == "awaiting_input",
                    HITLDetail.responded_at.is_(None),
                )
            ).all()
            forms = [
                (run_id, task_id, detail.subject, detail.body, detail.options)
                for run_id, task_id, detail in waiting
            ]
        for run_id, task_id, subject, body, options in forms:
            round_number = int(task_id.removeprefix("review_"))
            chosen = self.decisions[round_number - 1] if round_number <= len(self.decisions) else APPROVE
            self.reviews.append(Review(task_id, subject, body or "", list(options), chosen))
            with create_session() as session:
                update_hitl_detail(
                    dag_id=DAG_ID,
                    dag_run_id=run_id,
                    task_id=task_id,
                    update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[chosen]),
                    user=SimpleAuthManagerUser(username=REVIEWER_NAME, role="user"),
                    session=session,
                )

    @staticmethod
    def _fail_waiting_reviews() -> None:
        """Fail the reviews still waiting, so that dag.test() ends instead of waiting forever."""
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import update

        with create_session() as session:
            session.execute(
                update(TaskInstance)
                .where(TaskInstance.dag_id == DAG_ID, TaskInstance.state == "awaiting_input")
                .values(state="failed")
            )


def import_the_hitl_api() -> None:
    """Import what the reviewer's thread uses, and configure the ORM, on the test's own thread:
    a first import in the thread can deadlock with the main thread's mapper configuration (each
    waits for the lock the other holds: SQLAlchemy's configure mutex and a module's import lock)."""
    from sqlalchemy.orm import configure_mappers

    for module in HITL_API_MODULES:
        importlib.import_module(module)
    configure_mappers()  # imports every Airflow model first


@pytest.fixture(scope="module")
def metadata_db() -> None:
    """dag.test() records runs and HITL details in Airflow's metadata DB: migrate the tests' one."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run(  # noqa: S603 - our own venv's airflow, fixed arguments
        [str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy(), timeout=300
    )


def load_review_dag(monkeypatch: pytest.MonkeyPatch) -> DAG:
    """The example DAG as the DAGs folder example_dags/ gives it (``_common`` read afresh)."""
    monkeypatch.syspath_prepend(str(EXAMPLE_DAGS))
    monkeypatch.delitem(sys.modules, "_common", raising=False)
    dag: DAG = runpy.run_path(str(EXAMPLE_DAGS / f"{DAG_ID}.py"))[DAG_ID]()
    return dag


@pytest.fixture
def review_dag(
    metadata_db: None,
    apimart_simulator: ApimartSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> DAG:
    """The example DAG in its DAGs folder (dag.test() needs the file there), storing into
    ``tmp_path`` and polling the simulator's quick renders often."""
    from airflow import settings

    apimart_simulator.config.render_seconds = 0.3
    monkeypatch.setenv("APIMART_VIDEO_STORE", tmp_path.as_uri())
    monkeypatch.setenv("APIMART_POLL_INTERVAL", "0.2")
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(EXAMPLE_DAGS))
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLE_DAGS))
    return load_review_dag(monkeypatch)


def run_with(dag: DAG, decisions: list[str], **run_conf: Any) -> tuple[DagRun, Reviewer]:
    with Reviewer(decisions) as reviewer:
        run = dag.test(run_conf={"prompt": PROMPT, **run_conf})
    return run, reviewer


def states(run: DagRun) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def xcom(run: DagRun, task_id: str, key: str = "return_value") -> Any:
    """A task's XCom in the run, as Airflow's metadata DB holds it."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, dag_ids=DAG_ID, task_ids=task_id, key=key)
        ).first()
        return XComModel.deserialize_value(row) if row is not None else None


def published_events(run: DagRun) -> list[dict[str, Any]]:
    """The extra of each event of the reviewed-video asset that this run emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "apimart_reviewed_video", AssetEvent.source_run_id == run.run_id)
        ).all()
        return [dict(event.extra) for event in events]


def check_forms(reviewer: Reviewer, run: DagRun, max_rounds: int) -> None:
    """Each form links to the run's Videos tab, shows the prompt, cost and stored file of its
    round's render, and offers a reject that says what it does: pay again, or end at the cap."""
    videos_tab = f"(/dags/{DAG_ID}/runs/{quote(run.run_id, safe='')}/plugin/apimart-videos)"
    for round_number, review in enumerate(reviewer.reviews, start=1):
        assert review.task_id == f"review_{round_number}"
        assert review.subject == f"Publish this video? Round {round_number} of {max_rounds}"
        last = round_number == max_rounds
        assert review.options == [APPROVE, REJECT_AND_END if last else REJECT_AND_RENDER]
        video = xcom(run, f"generate_{round_number}", "apimart_task")
        for shown in (videos_tab, PROMPT, f"cost {video['cost']}", video["outputs"][0]["uri"]):
            assert shown in review.body, (shown, review.body)
        if last:
            assert "This is the last round: rejecting ends the run and publishes nothing." in review.body
        else:
            assert (
                f"Rejecting pays for a new render (round {round_number + 1} of {max_rounds})." in review.body
            )


def check_published(event: dict[str, Any], round_number: int, simulator: ApimartSimulator) -> None:
    """The asset event names the decision, the reviewer, the round, and the render's stored files."""
    assert event["decision"] == APPROVE
    assert event["approved"] is True
    assert event["responded_by"] == {"id": REVIEWER_NAME, "name": REVIEWER_NAME}
    assert event["round"] == round_number
    assert event["remote_task_id"] == simulator.state.paid_submissions[round_number - 1].task_id
    (output,) = event["outputs"]
    stored = Path(output["uri"].removeprefix("file://"))
    assert output["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()


def test_each_round_has_its_own_render_review_and_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    """On every supported Airflow: the rounds are unrolled, each review branches to its round's
    publish, the next round's render or the end, and its form has no fields to fill in."""
    from airflow.providers.standard.operators.hitl import HITLBranchOperator

    from airflow_provider_apimart.operators.video import ApimartWan27Operator

    dag = load_review_dag(monkeypatch)
    for n in range(1, ROUNDS + 1):
        generate, review = dag.task_dict[f"generate_{n}"], dag.task_dict[f"review_{n}"]
        assert isinstance(generate, ApimartWan27Operator)
        assert isinstance(review, HITLBranchOperator)
        assert generate.downstream_task_ids == {f"review_{n}"}
        next_render = {REJECT_AND_RENDER: f"generate_{n + 1}"} if n < ROUNDS else {}
        assert review.options_mapping == {APPROVE: f"publish_{n}", REJECT_AND_END: "outcome", **next_render}
        assert review.downstream_task_ids == {f"publish_{n}", *next_render.values()}
        assert review.serialized_params == {}
        assert [outlet.name for outlet in dag.task_dict[f"publish_{n}"].outlets] == ["apimart_reviewed_video"]
    assert dag.task_dict["outcome"].upstream_task_ids == {f"publish_{n}" for n in range(1, ROUNDS + 1)}


@needs_airflow_3_3
def test_approve_in_round_one_publishes_one_paid_render(
    review_dag: DAG, apimart_simulator: ApimartSimulator
) -> None:
    run, reviewer = run_with(review_dag, [APPROVE])

    assert run.state == "success"
    assert apimart_simulator.state.paid_count() == 1
    assert [review.task_id for review in reviewer.reviews] == ["review_1"]
    check_forms(reviewer, run, max_rounds=ROUNDS)
    (event,) = published_events(run)
    check_published(event, 1, apimart_simulator)
    assert states(run) == {
        "generate_1": "success",
        "review_1": "success",
        "publish_1": "success",
        **{f"{kind}_{n}": "skipped" for n in (2, 3) for kind in ("generate", "review", "publish")},
        "outcome": "success",
    }
    assert xcom(run, "outcome")["published_round"] == 1


@needs_airflow_3_3
def test_reject_then_approve_pays_for_two_renders_and_publishes_round_two(
    review_dag: DAG, apimart_simulator: ApimartSimulator
) -> None:
    run, reviewer = run_with(review_dag, [REJECT_AND_RENDER, APPROVE])

    assert run.state == "success"
    assert apimart_simulator.state.paid_count() == 2
    assert [review.task_id for review in reviewer.reviews] == ["review_1", "review_2"]
    check_forms(reviewer, run, max_rounds=ROUNDS)
    (event,) = published_events(run)
    check_published(event, 2, apimart_simulator)
    assert {task: states(run)[task] for task in ("publish_1", "publish_2", "generate_3", "outcome")} == {
        "publish_1": "skipped",
        "publish_2": "success",
        "generate_3": "skipped",
        "outcome": "success",
    }
    assert xcom(run, "review_1", "decision")["decision"] == REJECT_AND_RENDER
    assert (xcom(run, "outcome")["published_round"], xcom(run, "outcome")["paid_renders"]) == (2, 2)


@needs_airflow_3_3
@pytest.mark.parametrize("max_rounds", [ROUNDS, 2])
def test_reject_in_every_round_pays_max_rounds_and_publishes_nothing(
    review_dag: DAG, apimart_simulator: ApimartSimulator, max_rounds: int
) -> None:
    decisions = [REJECT_AND_RENDER] * (max_rounds - 1) + [REJECT_AND_END]
    run, reviewer = run_with(review_dag, decisions, max_rounds=max_rounds)

    # A rejection is a decision, not a failure: the run succeeds, publishes nothing, and says so.
    assert run.state == "success"
    assert apimart_simulator.state.paid_count() == max_rounds
    assert [review.task_id for review in reviewer.reviews] == [
        f"review_{n}" for n in range(1, max_rounds + 1)
    ]
    check_forms(reviewer, run, max_rounds=max_rounds)
    assert published_events(run) == []
    assert all(states(run)[f"publish_{n}"] == "skipped" for n in range(1, ROUNDS + 1))
    assert all(states(run)[f"generate_{n}"] == "skipped" for n in range(max_rounds + 1, ROUNDS + 1))
    assert states(run)["outcome"] == "success"
    assert (xcom(run, "outcome")["published_round"], xcom(run, "outcome")["paid_renders"]) == (
        None,
        max_rounds,
    )
