"""Every model, imported in one place so metadata (and Alembic) sees the whole schema."""
from .accounts.models import (  # noqa: F401
    ApiToken,
    ConsentKind,
    ConsentRecord,
    ConsentStatus,
    Gender,
    Membership,
    OneTimeToken,
    PrincipalVersion,
    RevokedPass,
    Role,
    StaffInvitation,
    TokenPurpose,
    User,
    YouthProfile,
)
from .activities.models import (  # noqa: F401
    Activity,
    ActivityStatus,
    Category,
    Session,
    SessionPattern,
    activity_focus_area,
    activity_initiative,
)
from .attendance.models import AgeBand, Attendance, CheckinMethod, HeadCount, ScanConflict  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .jobs.models import ScheduledRun  # noqa: F401
from .mail.models import OutboxMessage  # noqa: F401
from .mfa.models import RecoveryCode, TotpFactor  # noqa: F401
from .programme.models import (  # noqa: F401
    ActionPlan,
    District,
    FocusArea,
    Initiative,
    Institution,
    InstitutionKind,
    Programme,
)
from .reports.models import FiguresCache, FiguresGrain, FiguresGrainYear, FiguresYear, VisitMonth  # noqa: F401
from .signups.models import Signup, SignupStatus  # noqa: F401
