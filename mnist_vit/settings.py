"""The settings of one run of the main job (`mnist_vit.experiment.run_experiment`): a frozen dataclass.

Its fields are the options of `experiments/run_tuner.py`. The run settings
left None (`trials`, `search_epochs`, `search_margin`, `epochs`,
`train_sequences`, `seeds`, `batch_size`) come from the task's preset
(`cpu` or `large`, `Task.presets`); the output paths default to the run
folder's, or with `publish` to the committed files of the backend that runs.
This module imports no Keras.
"""

import dataclasses
import glob
import os

from mnist_vit.command_line import MAX_SEED, check_output_file, check_output_folder
from mnist_vit.errors import UsageError
from mnist_vit.results import REFERENCE_BACKEND, backend_folder
from mnist_vit.run_folder import data_fingerprint
from mnist_vit.tasks import task_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout, for --publish
PUBLISHED_RESULTS = os.path.join(ROOT, "experiments", "results")
PUBLISHED_FIGURES = os.path.join(ROOT, "figures")
PRESETS = ("cpu", "large")  # every task's `presets` has both
TUNERS = ("bayesian", "hyperband", "random")  # the keys of `mnist_vit.search.ORACLES` (which imports Keras)
MAX_SEQUENCES = 1_000_000  # per setting: the fixed sets are held in memory as indices
MIN_VALIDATION_SEQUENCES = 32  # fewer cannot score a model (an AUC needs both answers)
# The settings that the preset fills when they are None (`Settings.with_preset`).
PRESET_SETTINGS = (
    "trials",
    "search_epochs",
    "search_margin",
    "epochs",
    "train_sequences",
    "seeds",
    "batch_size",
)
# Each whole-number setting's range (low, high; None: no bound).
WHOLE_NUMBERS = {
    "trials": (1, None), "search_epochs": (1, None), "epochs": (1, None), "seeds": (1, None),
    "batch_size": (1, None), "seed": (0, MAX_SEED), "train_sequences": (1, MAX_SEQUENCES),
    "train_pool": (1, MAX_SEQUENCES), "patience": (1, None),
    "validation_sequences": (MIN_VALIDATION_SEQUENCES, MAX_SEQUENCES), "test_sequences": (1, MAX_SEQUENCES),
}  # fmt: skip
# The settings that decide a run folder's results (`RunFolder`), beside the task, backend and data.
# Not `seeds`: each seed's final run is a folder of its own, so a rerun with more seeds reuses the others.
FOLDER_SETTINGS = (
    "preset", "tuner", "trials", "search_epochs", "search_margin", "epochs", "train_sequences",
    "train_pool", "patience", "batch_size", "seed", "validation_sequences", "test_sequences", "data_parallel",
)  # fmt: skip


def published_results(task_name, backend=REFERENCE_BACKEND):
    """The committed results file of a task's default run on `backend`.

    `REFERENCE_BACKEND`'s is the reference, `experiments/results/<task>.json`;
    another backend's is `experiments/results/<backend>/<task>.json`.
    """
    return os.path.join(backend_folder(PUBLISHED_RESULTS, backend), f"{task_name}.json")


@dataclasses.dataclass(frozen=True)
class Settings:
    """One run of the main job: the task, its search and training budget, and where its files go.

    Attributes:
        task: str. A registered task's name (`mnist_vit.tasks.task_names`).
        preset: str. `"cpu"` (the default run, sized for 2 CPU cores) or
            `"large"`: the source of every budget setting left None.
        tuner: str. KerasTuner's oracle: `"random"`, `"bayesian"` or `"hyperband"`.
        trials, search_epochs: int. The search's trials and epochs per trial.
        search_margin: float in [0, 1]. Keep the defaults unless a trial's
            score beats theirs by more than this.
        epochs, train_sequences: int. Each final model's epochs and fresh
            training sequences per epoch.
        train_pool: int or None. Draw every epoch's training sequences (the
            search's and the final models') from one fixed set of this many
            sequences per seed, so a model learns from that many distinct
            sequences; None: new ones every epoch.
        patience: int or None. Stop a final model's training once its
            validation score (`Task.monitor`) has not improved for this many
            epochs, and test its best epoch; None: train every epoch and
            test the end of the schedule.
        seeds: int. Final runs per model, with seeds `seed`, `seed + 1`, ...
        seed: int. The search's seed (the same seed proposes the same trials).
        batch_size: int.
        validation_sequences, test_sequences: int. The fixed validation and
            test sequences (lengths 1..10; the test's lengths 1..100 get
            1/100 of `test_sequences` each).
        search_only: bool. Stop after the search.
        data_parallel: bool. Train on every local device (jax, tensorflow).
        data: str or None. `mnist.npz` (None: `$MNIST_VIT_DATA`, else Keras's download).
        out: str or None. The run folder (None: `runs/<task>`).
        results, figures: str or None. The results file and figures folder
            (None: in the run folder, or the committed ones with `publish`).
        publish: bool. Write over the committed results and figures of the
            backend that runs.
        start_over: bool. Delete the run folder's runs first.
    """

    task: str = "sum"
    preset: str = "cpu"
    tuner: str = "random"
    trials: int | None = None
    search_epochs: int | None = None
    search_margin: float | None = None
    epochs: int | None = None
    train_sequences: int | None = None
    train_pool: int | None = None
    patience: int | None = None
    seeds: int | None = None
    seed: int = 0
    batch_size: int | None = None
    validation_sequences: int = 2000
    test_sequences: int = 10000
    search_only: bool = False
    data_parallel: bool = False
    data: str | None = None
    out: str | None = None
    results: str | None = None
    figures: str | None = None
    publish: bool = False
    start_over: bool = False

    def __post_init__(self):
        """Raises UsageError naming the first setting that no run can have.

        `run_tuner.py` checks its options as it parses them; this catches the
        same mistakes in settings made in Python (a notebook, a study).
        """
        choices = {"task": task_names(), "preset": PRESETS, "tuner": TUNERS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise UsageError(
                    f"Settings.{name} is {getattr(self, name)!r}; expected one of {list(allowed)}"
                )
        for name, (low, high) in WHOLE_NUMBERS.items():
            value = getattr(self, name)
            if value is None and (name in PRESET_SETTINGS or name in ("train_pool", "patience")):
                continue
            whole = isinstance(value, int) and not isinstance(value, bool)
            if not whole or value < low or (high is not None and value > high):
                bound = f"in {low:,}..{high:,}" if high is not None else f">= {low:,}"
                raise UsageError(f"Settings.{name} is {value!r}; expected a whole number {bound}")
        margin = self.search_margin
        if margin is not None and (
            not isinstance(margin, int | float) or isinstance(margin, bool) or not 0 <= margin <= 1
        ):
            raise UsageError(f"Settings.search_margin is {margin!r}; expected a number in [0, 1]")
        for name in ("data", "out", "results", "figures"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):  # an empty one: `check_outputs`
                raise UsageError(f"Settings.{name} is {value!r}; expected a path (or None)")

    def with_paths(self, backend=None):
        """These settings with the output paths filled in; `backend` (which runs) is needed to publish.

        Not published: `runs/<task>`, `<out>/results.json`, `<out>/figures`.
        Published: the committed results file and figures folder of `backend`.
        """
        out = self.out if self.out is not None else os.path.join("runs", self.task)
        if self.publish:
            results, figures = (
                published_results(self.task, backend),
                backend_folder(PUBLISHED_FIGURES, backend),
            )
        else:
            results, figures = os.path.join(out, "results.json"), os.path.join(out, "figures")
        return dataclasses.replace(
            self,
            out=out,
            results=self.results if self.results is not None else results,
            figures=self.figures if self.figures is not None else figures,
        )

    def with_preset(self, task):
        """These settings with every budget setting left None taken from `task`'s preset.

        A preset without `search_margin` keeps the best trial (margin 0);
        without `batch_size`, `TrainingConfig`'s. Imports Keras. Raises
        UsageError when the final runs' seeds pass `MAX_SEED`.
        """
        from mnist_vit.hyperparameters import TrainingConfig

        preset = {"search_margin": 0.0, "batch_size": TrainingConfig.batch_size, **task.presets[self.preset]}
        filled = dataclasses.replace(
            self, **{key: value for key, value in preset.items() if getattr(self, key) is None}
        )
        last = filled.seed + filled.seeds - 1
        if last > MAX_SEED:
            raise UsageError(
                f"--seed {filled.seed} with --seeds {filled.seeds} needs seeds up to {last:,}; "
                f"the largest is {MAX_SEED:,}"
            )
        return filled

    def check_outputs(self):
        """Raises UsageError, before any work, for an output path that cannot be written.

        The results file must be a regular file or a missing path in a
        writable folder (never a folder, device or pipe); the run folder and
        the figures folder must be folders or missing, and the task's
        figures (`<task>_*.png`) in it regular files or missing. Creates
        nothing. Call on `with_paths`'s settings.
        """
        check_output_folder(self.out, "run folder")
        check_output_file(self.results, "results file")
        figures = [
            os.path.basename(path)
            for path in glob.glob(os.path.join(glob.escape(self.figures), f"{self.task}_*.png"))
        ]
        check_output_folder(self.figures, "figures folder", figures, file_what="figure")

    def folder_settings(self, backend, splits):
        """The settings that decide the run folder's results (`RunFolder`), with the backend and data."""
        return {
            "task": self.task,
            "backend": backend,
            "data": data_fingerprint(splits),
            **{key: getattr(self, key) for key in FOLDER_SETTINGS},
        }
