"""Reports: participation statistics, the dashboard, exports and the action-plan report."""
from . import models  # noqa: F401  (the statistics' indexes join the metadata)
