"""lettrage: card reconciliation and payment links for hotel finance teams."""

import os as _os

# Nothing here is linear algebra: an idle BLAS thread pool only spins (set before numpy loads).
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
