import sys
from pathlib import Path

# The helper package lives next to the notebooks (notebooks/tlcourse).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
