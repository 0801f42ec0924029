"""Environment every Rasa process Bridge starts runs with: offline, no telemetry.

Nothing may reach the internet at run time: Rasa's telemetry (and its error reports) are
off, and Hugging Face libraries never try the hub.
"""

import os
from typing import Dict, Optional

OFFLINE_VARIABLES: Dict[str, str] = {
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    # transformers would import Rasa's TensorFlow too; Bridge's models are torch only.
    "USE_TF": "0",
}


def offline_environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """This process's environment plus the offline settings and `extra`."""
    return {**os.environ, **OFFLINE_VARIABLES, **(extra or {})}
