"""The launch dialog: a suite or presets, the scale, GPUs and --set overrides, validated as you type (off the UI thread)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static
from textual.worker import get_current_worker

from simsiam_tui.config import list_presets, list_scales, list_suites, load_suite
from simsiam_tui.errors import SimsiamError
from simsiam_tui.launch.slots import machine_default_scale
from simsiam_tui.ui.actions import LaunchForm, LaunchPlan, check_launch
from simsiam_tui.ui.screens.fitted import FittedModal

DEBOUNCE_S = 0.25  # validate once typing pauses, never per key: resolving configs reads TOML files
FIELD_LABELS = {
    "suite": "suite",
    "scale": "scale",
    "presets": "presets",
    "overrides": "--set",
    "config": "config",
    "gpus": "GPUs",
    "per_gpu": "runs per GPU",
    "name": "name",
    "seeds": "seeds",
    "sweeps": "--sweep",
    "on_collapse": "--on-collapse",
}
INPUTS = ("gpus", "per_gpu", "name", "overrides", "seeds", "sweeps")


class LaunchScreen(FittedModal["LaunchPlan | None"]):
    """Dismisses with a validated LaunchPlan, or None when cancelled."""

    DEFAULT_CSS = """
    LaunchScreen { align: center middle; }
    LaunchScreen > #dialog {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    LaunchScreen #fields { height: auto; }
    LaunchScreen #foot { dock: bottom; height: auto; }
    LaunchScreen Label { color: $text-muted; }
    LaunchScreen SelectionList { height: 7; }
    LaunchScreen .row { height: auto; }
    LaunchScreen .row > * { width: 1fr; }
    LaunchScreen .seeds-row > #seeds, LaunchScreen .seeds-row > Label:first-child { width: 1fr; }
    LaunchScreen .seeds-row > #sweeps, LaunchScreen .seeds-row > Label:last-child { width: 2fr; }
    LaunchScreen .row > Label { padding-left: 1; }
    LaunchScreen #error { color: $error; text-style: bold; height: auto; }
    LaunchScreen #plan { color: $success; height: auto; }
    LaunchScreen #plan.-checking { color: $text-muted; }
    LaunchScreen Input.-checking { border: tall $warning; }
    LaunchScreen.compact Input.-checking { background: $warning 25%; }
    LaunchScreen #buttons { height: auto; align-horizontal: right; }
    LaunchScreen Button { margin-left: 2; }
    LaunchScreen.compact SelectionList { height: 5; }
    LaunchScreen.compact .row { margin-bottom: 0; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "launch", "Launch", priority=True),
    ]

    def __init__(
        self, presets_dir: str | None = None, suite: str | None = "stop-grad", gpus: list[int] | None = None
    ) -> None:
        """gpus: the local GPUs the probe sees ([]: none, so a blank GPU field means the CPU); None: unknown."""
        super().__init__()
        self.presets_dir = presets_dir
        self.initial_suite = suite
        self.gpus = gpus
        self.plan: LaunchPlan | None = None
        self.error: str | None = None
        self.errors: dict[str, str] = {}
        self.checked: LaunchForm | None = None  # the request that plan/errors belong to
        self.validations = 0
        self._timer: Timer | None = None
        self._launch_when_checked = False

    def compose(self) -> ComposeResult:
        suites = list_suites(self.presets_dir)
        scales = list_scales(self.presets_dir)
        default = machine_default_scale()  # the CLI's rule: cifar10 where a GPU is visible, digits elsewhere
        scale = default if default in scales else (scales[0] if scales else None)
        no_gpu = self.gpus is not None and not self.gpus
        with Vertical(id="dialog"):
            with VerticalScroll(id="fields"):
                yield Static("[b]Launch runs[/b]  ctrl+s launches, escape cancels")
                with Horizontal(classes="row"):
                    yield Select(
                        [(Text(s), s) for s in suites],  # names from a presets folder: text, never markup
                        value=self.initial_suite if self.initial_suite in suites else Select.BLANK,
                        prompt="suite (none)",
                        id="suite",
                    )
                    yield Select(
                        [(Text(s), s) for s in scales],
                        value=scale if scale else Select.BLANK,
                        prompt="scale",
                        id="scale",
                    )
                yield Label("presets (space toggles; added to the suite's)")
                yield SelectionList[str](*((Text(p), p) for p in list_presets(self.presets_dir)), id="presets")
                with Horizontal(classes="row"):
                    yield Label("GPUs")
                    yield Label("runs per GPU" if not no_gpu else "runs at once")
                    yield Label("name prefix")
                with Horizontal(classes="row"):
                    yield Input(placeholder="cpu (no GPU seen)" if no_gpu else "all, or 0,1, or cpu", id="gpus")
                    yield Input(placeholder="default", id="per_gpu")
                    yield Input(placeholder="optional", id="name")
                yield Label("--set KEY=VALUE ...")
                yield Input(placeholder="train.epochs=5 optim.lr=0.05", id="overrides")
                with Horizontal(classes="row seeds-row"):
                    yield Label("seeds per point")
                    yield Label("--sweep KEY=V1,V2 ...")
                with Horizontal(classes="row seeds-row"):
                    yield Input(placeholder="1", id="seeds")
                    yield Input(placeholder="optim.lr=0.01,0.03", id="sweeps")
                yield Checkbox("stop a run once its verdict says collapsed (--on-collapse stop)", id="on_collapse")
            with Vertical(id="foot"):  # docked: message and buttons stay in view at any size
                yield Static("", id="error")
                yield Static("", id="plan")
                with Horizontal(id="buttons"):
                    yield Button("Launch", id="launch", variant="primary", disabled=True)
                    yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#suite", Select).focus()  # the first field, not the scrolling container around it
        self.validate_soon(0.0)

    def request(self) -> LaunchForm:
        """The form's current values."""
        suite = self.query_one("#suite", Select).value
        scale = self.query_one("#scale", Select).value
        return LaunchForm(
            suite=suite if isinstance(suite, str) else None,
            presets=list(self.query_one("#presets", SelectionList).selected),
            scale=scale if isinstance(scale, str) else None,
            gpus=self.query_one("#gpus", Input).value,
            per_gpu=self.query_one("#per_gpu", Input).value,
            overrides=self.query_one("#overrides", Input).value,
            name=self.query_one("#name", Input).value,
            stop_on_collapse=self.query_one("#on_collapse", Checkbox).value,
            seeds=self.query_one("#seeds", Input).value,
            sweeps=self.query_one("#sweeps", Input).value,
        )

    # -- validation: debounced, on a thread ------------------------------------------------------
    def validate_soon(self, delay: float | None = None, field: Widget | None = None) -> None:
        """(Re)start the debounce timer; the check runs on a thread when it fires. At once, before the check:
        the field just changed is marked as being checked and the summary says so (the old one is gone)."""
        if self._timer is not None:
            self._timer.stop()
        self.query_one("#launch", Button).disabled = True  # until the form as it is now has been checked
        if isinstance(field, Input):
            field.add_class("-checking")
        what = FIELD_LABELS.get(field.id or "", field.id) if field is not None and field.id else "the form"
        plan = self.query_one("#plan", Static)
        plan.add_class("-checking")
        plan.update(Text(f"checking {what}…"))
        wait = DEBOUNCE_S if delay is None else delay
        self._timer = self.set_timer(wait, lambda: self._validate(self.request()))

    @work(thread=True, exclusive=True, group="launch-validate")
    def _validate(self, req: LaunchForm) -> None:
        plan, errors = check_launch(req, self.presets_dir)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, req, plan, errors)

    def _show(self, req: LaunchForm, plan: LaunchPlan | None, errors: dict[str, str]) -> None:
        """Show what the check found: every field's error at once, or what would start."""
        if not self.is_attached:
            return  # the dialog closed while the check ran
        if req != self.request():
            return  # the form changed meanwhile; a newer check is on its way
        self.validations += 1
        self.checked, self.plan, self.errors = req, plan, errors
        self.error = "; ".join(errors.values()) or None
        lines = [f"{FIELD_LABELS.get(k, k)}: {msg}" for k, msg in errors.items()]
        error = self.query_one("#error", Static)
        error.update(Text("\n".join(lines)))  # plain text: an error quotes what the user typed, brackets included
        error.display = bool(lines)  # no empty line on a short terminal
        for key in INPUTS:
            wrong = key in errors or (key == "overrides" and "config" in errors)
            self.query_one(f"#{key}", Input).set_class(wrong, "-invalid")
        for field in self.query(".-checking"):
            field.remove_class("-checking")
        self.query_one("#plan", Static).update(Text(self.summary()))
        self.query_one("#launch", Button).disabled = plan is None
        if self._launch_when_checked:
            self._launch_when_checked = False
            self.action_launch()

    def summary(self) -> str:
        """`2 run(s): simsiam, no-stop-grad @ digits, 50 epochs, on the CPU` (each variant named once)."""
        if self.plan is None:
            return ""
        names = ", ".join(dict.fromkeys(c.variant for c in self.plan.configs))
        points = len({c.sweep for c in self.plan.configs})
        if points > 1:
            names += f" at {points} sweep points"
        if self.plan.request.seeds > 1:
            names += f", {self.plan.request.seeds} seeds each"
        first = self.plan.configs[0]
        if self.plan.gpus == []:
            where = "the CPU"
        elif self.plan.gpus is not None:
            where = f"GPUs {','.join(map(str, self.plan.gpus))}"
        elif self.gpus:
            where = f"all visible GPUs ({','.join(map(str, self.gpus))})"
        elif self.gpus == []:
            where = "the CPU (no GPU seen)"
        else:
            where = "every visible GPU, else the CPU"
        stops = ", stopping what collapses" if first.monitor.on_collapse == "stop" else ""
        return f"{len(self.plan.configs)} run(s): {names} @ {first.scale}, {first.train.epochs} epochs, on {where}{stops}"

    # -- events -----------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self.validate_soon(field=event.input)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.validate_soon(field=event.checkbox)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "suite" and isinstance(event.value, str):
            self._suite_scale(event.value)
        self.validate_soon(field=event.select)

    @work(thread=True, exclusive=True, group="launch-suite")
    def _suite_scale(self, suite: str) -> None:
        """A suite that names its own scale selects it (read on a thread: it is a TOML file)."""
        try:
            scale = load_suite(suite, self.presets_dir).scale
        except SimsiamError:
            return
        if scale and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._set_scale, scale)

    def _set_scale(self, scale: str) -> None:
        select = self.query_one("#scale", Select)
        if select.value != scale:
            select.value = scale

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.validate_soon(field=event.selection_list)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_launch()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "launch":
            self.action_launch()
        else:
            self.dismiss(None)

    def action_launch(self) -> None:
        """Launch what the form says, once the check of the form as it is now has come back."""
        if self.checked != self.request():
            self._launch_when_checked = True
            self.validate_soon(0.0)
            return
        if self.plan is not None:
            self.dismiss(self.plan)
        else:
            self.notify(self.error or "fix the form first", severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
