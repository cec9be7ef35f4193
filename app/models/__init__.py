"""Every table, one per file, re-exported here so alembic sees the whole schema."""

from app.models.activity import Activity
from app.models.ambassador_status_change import AmbassadorStatusChange
from app.models.analytics_active import AnalyticsActive, AnalyticsActiveReturn
from app.models.analytics_daily import AnalyticsDaily
from app.models.analytics_member_daily import AnalyticsMemberDaily
from app.models.analytics_member_score import AnalyticsMemberScore
from app.models.analytics_question import AnalyticsQuestion
from app.models.analytics_segment import AnalyticsSegment
from app.models.analytics_settings import AnalyticsSettings
from app.models.analytics_topic_daily import AnalyticsTopicDaily
from app.models.analytics_touch import AnalyticsTouch
from app.models.answer_vote import AnswerVote
from app.models.api_token import ApiToken
from app.models.audit_log import AuditLog
from app.models.auth_session import AuthSession
from app.models.base import Base
from app.models.campaign import Audience, Campaign, CampaignKind, CampaignState, Selection
from app.models.campaign_entry import CampaignEntry, EntryStatus
from app.models.campaign_entry_photo import CampaignEntryPhoto
from app.models.campaign_invite import CampaignInvite
from app.models.campaign_question import CampaignQuestion, QuestionKind
from app.models.campaign_view import CampaignView
from app.models.category import Category
from app.models.community_setting import CommunitySetting
from app.models.flag import Flag
from app.models.member import Member, Role
from app.models.member_external import MemberExternal
from app.models.notification import Notification
from app.models.notification_preference import NotificationPreference
from app.models.nps_response import NpsResponse
from app.models.nps_survey import NpsSurvey
from app.models.outbox_mail import OutboxMail
from app.models.point_external_award import PointExternalAward
from app.models.point_kind_total import PointKindTotal
from app.models.point_ledger_entry import PointLedgerEntry
from app.models.point_period_total import PointPeriodTotal
from app.models.point_rule import PointRule
from app.models.post import Post
from app.models.post_like import PostLike
from app.models.post_revision import PostRevision
from app.models.product import Product
from app.models.product_review import ProductReview
from app.models.rank import Rank
from app.models.rate_limit import RateLimit
from app.models.redemption import Redemption, RedemptionStatus
from app.models.reward import Reward
from app.models.search_index import SEARCH_TABLE
from app.models.tag import Tag
from app.models.topic import Topic
from app.models.topic_read import TopicRead
from app.models.topic_tag import TopicTag
from app.models.topic_view import TopicView
from app.models.upload import Upload, UploadPurpose
from app.models.webhook import Webhook
from app.models.webhook_delivery import WebhookDelivery
from app.models.word_filter import WordFilter

__all__ = [
    "SEARCH_TABLE",
    "Activity",
    "AmbassadorStatusChange",
    "AnalyticsActive",
    "AnalyticsActiveReturn",
    "AnalyticsDaily",
    "AnalyticsMemberDaily",
    "AnalyticsMemberScore",
    "AnalyticsQuestion",
    "AnalyticsSegment",
    "AnalyticsSettings",
    "AnalyticsTopicDaily",
    "AnalyticsTouch",
    "AnswerVote",
    "ApiToken",
    "Audience",
    "AuditLog",
    "AuthSession",
    "Base",
    "Campaign",
    "CampaignEntry",
    "CampaignEntryPhoto",
    "CampaignInvite",
    "CampaignKind",
    "CampaignQuestion",
    "CampaignState",
    "CampaignView",
    "Category",
    "CommunitySetting",
    "EntryStatus",
    "Flag",
    "Member",
    "MemberExternal",
    "Notification",
    "NotificationPreference",
    "NpsResponse",
    "NpsSurvey",
    "OutboxMail",
    "PointExternalAward",
    "PointKindTotal",
    "PointLedgerEntry",
    "PointPeriodTotal",
    "PointRule",
    "Post",
    "PostLike",
    "PostRevision",
    "Product",
    "ProductReview",
    "QuestionKind",
    "Rank",
    "RateLimit",
    "Redemption",
    "RedemptionStatus",
    "Reward",
    "Role",
    "Selection",
    "Tag",
    "Topic",
    "TopicRead",
    "TopicTag",
    "TopicView",
    "Upload",
    "UploadPurpose",
    "Webhook",
    "WebhookDelivery",
    "WordFilter",
]
