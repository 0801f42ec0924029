"""Environment every Rasa process Bridge starts runs with: offline, no telemetry, calm threads.

Nothing may reach the internet at run time: Rasa's telemetry (and its error reports) are
off, and Hugging Face libraries never try the hub. Processes Bridge starts get these
variables through `offline_environment`; code that has Rasa train in its own process (bench,
`bridge eval`) applies them to that process with `apply_to_this_process` before torch loads.
"""

import os

OFFLINE_VARIABLES: dict[str, str] = {
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    # transformers would import Rasa's TensorFlow too; Bridge's models are torch only.
    "USE_TF": "0",
    # torch's OpenMP threads spin while they wait for work. On a small machine shared with
    # the Rasa server, the action server and other jobs, spinning threads starve each other
    # and a second thread makes training slower instead of faster; waiting passively keeps
    # it a gain. OpenMP reads this once, when torch loads.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def offline_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus the offline settings and `extra`."""
    return {**os.environ, **OFFLINE_VARIABLES, **(extra or {})}


def apply_to_this_process() -> None:
    """Sets every offline variable this process's environment does not set already.

    Call it before a model runs in this process (torch reads OMP_WAIT_POLICY when it
    loads); a value the caller exported wins.
    """
    for name, value in OFFLINE_VARIABLES.items():
        os.environ.setdefault(name, value)
