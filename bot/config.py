"""The service's settings: one frozen dataclass per section of config.toml.

The defaults here are the ones documented in config.example.toml (a test keeps the
two equal). Reading the file and the environment, and checking what they say, is
bot/config_loading.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ConfigError(ValueError):
    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///needsfirst.db"


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = "polling"
    webhook_url: str = ""
    secret_token: str = ""
    bot_username: str = ""
    # Of Telegram's 30 messages a second, places a broadcast leaves free for replies.
    broadcast_headroom: int = 0
    # A Redis URL: the 30 a second shared exactly by every process (workers and the
    # scheduler); empty: each process paces itself, estimating the others.
    shared_budget: str = ""


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    # Signs web chat devices and forms; generated and kept in the database when empty.
    secret: str = ""
    # Behind a reverse proxy: the header with the client's address (e.g. "X-Forwarded-For").
    client_address_header: str = ""
    # New web residents one address may bring in the window (0: no limit).
    new_residents_per_address: int = 30
    new_residents_window_minutes: int = 60


@dataclass(frozen=True)
class StaffConfig:
    facilitators: tuple[int, ...] = ()
    officers: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    safeguarding: tuple[int, ...] = ()
    # Staff who are not on Telegram, by email address: they sign in to the dashboard
    # with a link sent by email ([notify] sign_in_template_id), and officers get the
    # weekly digest by email ([notify] digest_template_id).
    facilitator_emails: tuple[str, ...] = ()
    officer_emails: tuple[str, ...] = ()
    admin_emails: tuple[str, ...] = ()
    safeguarding_emails: tuple[str, ...] = ()
    # [staff.names]: display names by Telegram user id, for the dashboard and audit log.
    names: tuple[tuple[int, str], ...] = ()

    @property
    def emails(self) -> tuple[str, ...]:
        """Every staff email address, once each, in the order given."""
        every = (self.facilitator_emails + self.officer_emails + self.admin_emails
                 + self.safeguarding_emails)  # fmt: skip
        return tuple(dict.fromkeys(address.lower() for address in every))

    def name_of(self, user_id: int) -> str | None:
        """The display name [staff.names] gives a user id, if any."""
        return next((name for known, name in self.names if known == user_id), None)


@dataclass(frozen=True)
class DigestConfig:
    day: str = "mon"
    time: str = "09:00"
    timezone: str = "Europe/London"
    # Each weekly digest carries the whole consultation's evidence pack as a PDF.
    with_pack: bool = False


@dataclass(frozen=True)
class ConsultationsConfig:
    # Scripts loaded (created or updated) at start-up; "example" is the built-in one.
    load: tuple[str, ...] = ("example",)
    # Open a first round for a loaded consultation that has never had one.
    open_first_round: bool = True


@dataclass(frozen=True)
class SchedulerConfig:
    # A candidate to run the scheduler; the one holding its lock runs it (docs/deployment.md).
    enabled: bool = True


@dataclass(frozen=True)
class RemindersConfig:
    # One gentle reminder to residents who started but did not finish.
    enabled: bool = True
    after_hours: int = 24


@dataclass(frozen=True)
class RetentionConfig:
    # Days after a resident's last round closes before their identity is dropped
    # (their answers stay, pseudonymised). 0 keeps identities.
    identities_days: int = 180


@dataclass(frozen=True)
class SafeguardingConfig:
    # Leads on Telegram are [staff] safeguarding; these get alerts by email instead.
    emails: tuple[str, ...] = ()
    # A flag no lead has acknowledged this long after it was raised goes to every
    # lead again; after twice this long, to the fallback too.
    escalate_after_minutes: int = 60
    fallback_telegram: tuple[int, ...] = ()
    fallback_emails: tuple[str, ...] = ()
    # GOV.UK Notify, for the email alerts: an API key and an email template.
    notify_api_key: str = ""
    notify_template_id: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"


@dataclass(frozen=True)
class NotifyConfig:
    """GOV.UK Notify for residents: invitations and decisions by text message and
    email to web-chat residents who left contact details. Off without an API key."""

    api_key: str = ""
    base_url: str = "https://api.notifications.service.gov.uk"
    # Templates made in Notify's admin; each uses ((message)) and ((link)).
    sms_template_id: str = ""
    email_template_id: str = ""
    # Staff's templates: the weekly digest by email to [staff] officer_emails
    # (((consultation)), ((period)), ((summary)), ((link)), ((link_to_file))), and
    # dashboard sign-in links to [staff] *_emails (((link)), ((minutes))).
    digest_template_id: str = ""
    sign_in_template_id: str = ""
    # Notify allows 3,000 messages a minute per service; keep a little for alerts.
    per_minute: int = 2900


@dataclass(frozen=True)
class WhatsAppConfig:
    """The WhatsApp Cloud API (Meta). Off while phone_number_id is empty."""

    phone_number_id: str = ""
    # The number residents see, in international form without "+" (447700900100): for
    # partners' wa.me links.
    display_number: str = ""
    access_token: str = ""  # a system user's permanent token
    app_secret: str = ""  # signs every webhook call (X-Hub-Signature-256)
    verify_token: str = ""  # Meta's subscription check (GET hub.verify_token)
    base_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    # Messages a second the number may send (Meta's default is 80; up to 1,000).
    throughput: int = 80
    # Business-initiated conversations (templates) the account may open per 24 hours:
    # its messaging limit tier (250, 1000, 10000, 100000; 0: unlimited).
    daily_limit: int = 1000
    # Approved message templates, each with two body parameters: {{1}} the message,
    # {{2}} a link. Empty: that kind is not sent on WhatsApp.
    invitation_template: str = ""
    reminder_template: str = ""
    decision_template: str = ""
    # "our language=WhatsApp's language code" for each template's translations.
    template_languages: tuple[str, ...] = ("en=en_GB", "cy=cy", "pl=pl", "ur=ur")

    @property
    def limit_in_force(self) -> int:
        """The daily limit where WhatsApp is on; 0 (none) where it is off."""
        return self.daily_limit if self.phone_number_id else 0

    def template(self, kind: str) -> str | None:
        """The template for `kind` (invitation | decision | reminder): "" when none is
        set up, None when WhatsApp is off."""
        if not self.phone_number_id:
            return None
        names = {"invitation": self.invitation_template, "decision": self.decision_template,
                 "reminder": self.reminder_template}  # fmt: skip
        return names.get(kind, "")


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus metrics at /metrics on the web server (docs/deployment.md, "Metrics")."""

    enabled: bool = False
    # Scrapers send "Authorization: Bearer <token>"; empty: anyone who reaches /metrics.
    token: str = ""


@dataclass(frozen=True)
class ThemesConfig:
    """Theme analysis with the semantic extra (docs/officer-guide.md, "Answers in other
    languages"): "all-MiniLM-L6-v2" reads English; "multilingual-e5-small" also codes
    answers in Polish and Urdu to the English themes."""

    embedding_model: str = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class LoggingConfig:
    # "text" (lines for people) or "json" (one JSON object a line, for a log collector).
    format: str = "text"


@dataclass(frozen=True)
class OrganisationConfig:
    """Who runs this instance, for the public accessibility statement (/accessibility):
    the council must fill these in; until then the statement says it is unfinished."""

    name: str = ""
    contact_email: str = ""  # where residents report an accessibility problem
    contact_phone: str = ""
    # Working days within which a report or a request for another format is answered.
    response_working_days: int = 10
    # When the council last reviewed the statement, as "2026-12-06" ("": not yet).
    statement_reviewed: str = ""

    @property
    def incomplete(self) -> bool:
        """True until the council has given its name and a way to reach it."""
        return not self.name or not (self.contact_email or self.contact_phone)


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    web: WebConfig = field(default_factory=WebConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    consultations: ConsultationsConfig = field(default_factory=ConsultationsConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    safeguarding: SafeguardingConfig = field(default_factory=SafeguardingConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    whatsapp: WhatsAppConfig = field(default_factory=WhatsAppConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    themes: ThemesConfig = field(default_factory=ThemesConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    organisation: OrganisationConfig = field(default_factory=OrganisationConfig)
    source: str = "built-in defaults"
    # Keys ("section.key") whose values came from NEEDSFIRST_* variables, for errors.
    from_environment: frozenset[str] = frozenset()


SECRETS = {
    ("telegram", "token"),
    ("telegram", "secret_token"),
    ("database", "url"),
    ("safeguarding", "notify_api_key"),
    ("notify", "api_key"),
    ("whatsapp", "access_token"),
    ("whatsapp", "app_secret"),
    ("whatsapp", "verify_token"),
    ("web", "secret"),
    ("metrics", "token"),
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def staff_roles(config: Config, user_id: int | str) -> set[str]:
    """The roles a Telegram user id or an email address has (admins have every role)."""
    return roles_in(config.staff, user_id)


def roles_in(staff: StaffConfig, user_id: int | str) -> set[str]:
    """The roles [staff] gives a Telegram user id, or an email address (admins have
    every role). Addresses are compared without regard to case."""
    if isinstance(user_id, str):
        address = user_id.lower()
        lists: tuple[tuple[str, tuple[int | str, ...]], ...] = tuple(
            (role, tuple(a.lower() for a in addresses))
            for role, addresses in (
                ("facilitator", staff.facilitator_emails),
                ("officer", staff.officer_emails),
                ("admin", staff.admin_emails),
                ("safeguarding", staff.safeguarding_emails),
            )
        )
        key: int | str = address
    else:
        lists = (
            ("facilitator", staff.facilitators),
            ("officer", staff.officers),
            ("admin", staff.admins),
            ("safeguarding", staff.safeguarding),
        )
        key = user_id
    roles = {role for role, ids in lists if key in ids}
    if "admin" in roles:
        roles |= {"facilitator", "officer"}
    return roles
