"""The launch dialog: a suite or presets, the scale, GPUs and --set overrides, validated as you type."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from simsiam_tui.config import list_presets, list_scales, list_suites, load_suite
from simsiam_tui.config.presets import default_scale
from simsiam_tui.errors import SimsiamError
from simsiam_tui.ui.actions import LaunchPlan, LaunchRequest, plan_launch


class LaunchScreen(ModalScreen["LaunchPlan | None"]):
    """Dismisses with a validated LaunchPlan, or None when cancelled."""

    DEFAULT_CSS = """
    LaunchScreen { align: center middle; }
    LaunchScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    LaunchScreen Label { margin-top: 1; color: $text-muted; }
    LaunchScreen SelectionList { height: 7; }
    LaunchScreen .row { height: auto; }
    LaunchScreen .row > * { width: 1fr; }
    LaunchScreen #error { color: $error; text-style: bold; margin-top: 1; height: auto; }
    LaunchScreen #plan { color: $success; margin-top: 1; height: auto; }
    LaunchScreen #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    LaunchScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "launch", "Launch", priority=True),
    ]

    def __init__(self, presets_dir: str | None = None, suite: str | None = "stop-grad") -> None:
        super().__init__()
        self.presets_dir = presets_dir
        self.initial_suite = suite
        self.plan: LaunchPlan | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        suites = list_suites(self.presets_dir)
        scales = list_scales(self.presets_dir)
        scale = default_scale() if default_scale() in scales else (scales[0] if scales else None)
        with VerticalScroll():
            yield Static("[b]Launch runs[/b]  (ctrl+s launches, escape cancels)")
            with Horizontal(classes="row"):
                yield Select(
                    [(s, s) for s in suites],
                    value=self.initial_suite if self.initial_suite in suites else Select.BLANK,
                    prompt="suite (none)",
                    id="suite",
                )
                yield Select(
                    [(s, s) for s in scales], value=scale if scale else Select.BLANK, prompt="scale", id="scale"
                )
            yield Label("presets (space toggles; added to the suite's)")
            yield SelectionList[str](*((p, p) for p in list_presets(self.presets_dir)), id="presets")
            with Horizontal(classes="row"):
                yield Input(placeholder="GPUs: 0,1 / cpu / blank = all visible", id="gpus")
                yield Input(placeholder="runs per GPU (blank = 1)", id="per_gpu")
                yield Input(placeholder="name prefix (optional)", id="name")
            yield Input(placeholder="--set KEY=VALUE ... e.g. train.epochs=5 optim.lr=0.05", id="overrides")
            yield Static("", id="error")
            yield Static("", id="plan")
            with Horizontal(id="buttons"):
                yield Button("Launch", id="launch", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.validate_form()

    def request(self) -> LaunchRequest:
        """The form's current values."""
        suite = self.query_one("#suite", Select).value
        scale = self.query_one("#scale", Select).value
        return LaunchRequest(
            suite=suite if isinstance(suite, str) else None,
            presets=list(self.query_one("#presets", SelectionList).selected),
            scale=scale if isinstance(scale, str) else None,
            gpus=self.query_one("#gpus", Input).value,
            per_gpu=self.query_one("#per_gpu", Input).value,
            overrides=self.query_one("#overrides", Input).value,
            name=self.query_one("#name", Input).value,
        )

    def validate_form(self) -> bool:
        """Resolve every config now; show the CLI's message for the first problem, or what would start."""
        try:
            self.plan = plan_launch(self.request(), self.presets_dir)
            self.error = None
        except SimsiamError as exc:
            self.plan, self.error = None, str(exc)
        self.query_one("#error", Static).update(f"error: {self.error}" if self.error else "")
        plan_text = ""
        if self.plan is not None:
            names = ", ".join(c.variant for c in self.plan.configs)
            scale = self.plan.configs[0].scale
            where = (
                "all visible GPUs"
                if self.plan.gpus is None
                else ("CPU" if not self.plan.gpus else f"GPUs {self.plan.gpus}")
            )
            epochs = self.plan.configs[0].train.epochs
            plan_text = f"{len(self.plan.configs)} run(s): {names} @ {scale}, {epochs} epochs, on {where}"
        self.query_one("#plan", Static).update(plan_text)
        self.query_one("#launch", Button).disabled = self.plan is None
        return self.plan is not None

    def on_input_changed(self, event: Input.Changed) -> None:
        self.validate_form()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "suite" and isinstance(event.value, str):
            try:
                scale = load_suite(event.value, self.presets_dir).scale
            except SimsiamError:
                scale = None
            if scale:
                self.query_one("#scale", Select).value = scale
        self.validate_form()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.validate_form()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_launch()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "launch":
            self.action_launch()
        else:
            self.dismiss(None)

    def action_launch(self) -> None:
        if self.validate_form():
            self.dismiss(self.plan)
        else:
            self.notify(self.error or "fix the form first", severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
