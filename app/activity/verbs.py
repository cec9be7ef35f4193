"""Activity verbs. Each feature adds its own; points rules and rollups key on these strings."""

from __future__ import annotations

SIGNED_UP = "member.signed_up"
VISITED = "member.visited"

# Forums and Q&A (issue 3); app/forums/service.py and app/qa/service.py record them.
TOPIC_CREATED = "topic.created"
POST_CREATED = "post.created"
ANSWER_CREATED = "answer.created"
LIKE_GIVEN = "like.given"
LIKE_UNDONE = "like.undone"
VOTE_CAST = "vote.cast"
ANSWER_ACCEPTED = "answer.accepted"
ANSWER_UNACCEPTED = "answer.unaccepted"
POST_REMOVED = "post.removed"
POST_RESTORED = "post.restored"

# Points and ranks (issue 4).
PROFILE_COMPLETED = "member.profile_completed"
RANK_REACHED = "rank.reached"

# Campaigns, rewards and product reviews (issue 7). Every campaign verb carries
# data={"campaign_id"}; campaign.opened has the operator (or None) as actor and no recipient:
# its audience comes from app.campaigns.policy.audience_member_ids(session, campaign).
CAMPAIGN_OPENED = "campaign.opened"
CAMPAIGN_ENTERED = "campaign.entered"
CAMPAIGN_SELECTED = "campaign.selected"
CAMPAIGN_NOT_SELECTED = "campaign.not_selected"
CAMPAIGN_ATTENDED = "campaign.attended"
REWARD_REDEEMED = "reward.redeemed"
REWARD_REFUSED = "reward.refused"
REWARD_FULFILLED = "reward.fulfilled"
REVIEW_CREATED = "review.created"

# Operator analytics (issue 6). survey.answered: actor=member, subject=("survey", id),
# data={"score", "category"}. ambassador.*: actor=operator (None when the detector flags),
# recipient=member, subject=("member", id), data={"status", "note"}. member.imported:
# actor=operator, subject=("member", id), data={"external_id"}.
SURVEY_ANSWERED = "survey.answered"
# survey.opened: actor=the operator who created it (None when a scheduled survey's day came),
# subject=("survey", id), data={"survey_id"}; recorded once per survey (dedupe key).
SURVEY_OPENED = "survey.opened"
AMBASSADOR_FLAGGED = "ambassador.flagged"
AMBASSADOR_CONFIRMED = "ambassador.confirmed"
AMBASSADOR_DISMISSED = "ambassador.dismissed"
MEMBER_IMPORTED = "member.imported"

# Moderation (issue 5). post.hidden: actor=moderator (None when flags reached the threshold),
# recipient=author, subject=("post", id), data={"topic_id", "post_id", "reason", "by_flags"};
# a hide or delete also records post.removed (points reverse), a restore post.restored.
# flag.accepted: actor=flagger, subject=("post", id), data={"flag_id", "topic_id"} (points may
# pay for it). flag.resolved: recipient=flagger, data={"outcome": "accepted"|"rejected",
# "post_id", "topic_id", "reason"}. member.warned/silenced/suspended: actor=moderator,
# recipient=member, subject=("member", id), data={"reason", "until"}.
POST_HIDDEN = "post.hidden"
FLAG_ACCEPTED = "flag.accepted"
FLAG_RESOLVED = "flag.resolved"
MEMBER_WARNED = "member.warned"
MEMBER_SILENCED = "member.silenced"
MEMBER_SUSPENDED = "member.suspended"
