"""Research beside the course: it imports ``mnist_helpers``, never the reverse (see README.md here)."""
from pathlib import Path

# The results only the lab's write-ups read (benchmarks, the ablation); what the notebooks and the README read
# stays in the repository's results/.
RESULTS = Path(__file__).resolve().parent / "results"
