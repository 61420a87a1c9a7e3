// The simulator's fixed vocabulary: channels, event names, property keys and
// the planted model parameters. Kept apart from the generator so that the
// tests and docs/SIMULATOR.md can name the same constants.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace cairn::sim {

enum Channel : int { kOrganic, kPaidSearch, kSocial, kEmail, kReferral, kDisplay, kDirect, kChannelCount };
inline constexpr std::array<std::string_view, kChannelCount> kChannelNames = {
    "organic_search", "paid_search", "social", "email", "referral", "display", "direct"};

// Planted log-odds effect of having been touched by the channel before the
// conversion: p = sigmoid(base[segment] + sum of effects of distinct channels).
inline constexpr std::array<double, kChannelCount> kChannelEffect = {0.45, 1.0, 0.35, 1.3, 0.7, 0.15, 0.0};

enum Segment : int { kSalesLed, kSelfServe, kShopper, kSegmentCount };
inline constexpr std::array<std::string_view, kSegmentCount> kSegmentNames = {"sales_led", "self_serve", "shopper"};
inline constexpr std::array<double, kSegmentCount> kSegmentShare = {0.30, 0.35, 0.35};
inline constexpr std::array<double, kSegmentCount> kSegmentBase = {-3.0, -2.8, -2.6};

enum Feature : int { kReports, kDashboards, kIntegrations, kApi, kAlerts, kExport, kSso, kFeatureCount };
inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "reports", "dashboards", "integrations", "api", "alerts", "export", "sso"};
// Planted upgrade model for customers: p = sigmoid(kUpgradeBase + sum of
// effects of distinct features used in the first 28 days after conversion).
inline constexpr double kUpgradeBase = -2.2;
inline constexpr std::array<double, kFeatureCount> kFeatureEffect = {0.1, 0.5, 1.0, 0.8, 0.0, -0.2, 0.4};
inline constexpr std::array<double, kFeatureCount> kFeatureAdoption = {0.7, 0.6, 0.35, 0.25, 0.4, 0.5, 0.15};

enum EventName : int {
  kAdImpression, kAdClick, kPageView, kEmailSent, kEmailOpen, kEmailClick, kEmailUnsubscribed,
  kSocialEngagement, kFormSubmit, kSignup, kLeadCreated, kMql, kOpportunityCreated, kSalesCall,
  kDealWon, kDealLost, kWebinarRegistered, kWebinarAttended, kChatStarted, kChatMessage,
  kTrialStarted, kLogin, kFeatureUsed, kAddToCart, kCheckoutStarted, kPurchase, kUpgrade,
  kCrossSell, kSubscriptionRenewed, kSubscriptionCancelled, kChurned, kSupportTicketOpened,
  kSupportFirstResponse, kSupportTicketResolved, kNpsResponse, kCsatResponse, kEventNameCount
};
inline constexpr std::array<std::string_view, kEventNameCount> kEventNames = {
    "ad_impression", "ad_click", "page_view", "email_sent", "email_open", "email_click",
    "email_unsubscribed", "social_engagement", "form_submit", "signup", "lead_created", "mql",
    "opportunity_created", "sales_call", "deal_won", "deal_lost", "webinar_registered",
    "webinar_attended", "chat_started", "chat_message", "trial_started", "login", "feature_used",
    "add_to_cart", "checkout_started", "purchase", "upgrade", "cross_sell", "subscription_renewed",
    "subscription_cancelled", "churned", "support_ticket_opened", "support_first_response",
    "support_ticket_resolved", "nps_response", "csat_response"};

// Property keys, in the fixed order of the CSV columns.
enum PropKey : int {
  kKeyChannel, kKeyUtmSource, kKeyUtmMedium, kKeyUtmCampaign, kKeyUtmContent, kKeyLandingPage,
  kKeyReferrer, kKeyPage, kKeyPagePath, kKeySessionId, kKeyEmailId, kKeyEmailName, kKeyAction,
  kKeyFormId, kKeyFormName, kKeyLeadSource, kKeyWebinarId, kKeyWebinarName, kKeyOpportunityId,
  kKeyObjection, kKeyOutcome, kKeyReason, kKeyTopic, kKeyFeature, kKeyProduct, kKeyQuantity,
  kKeyPlan, kKeyOrderId, kKeyFromTrial, kKeyTicketId, kKeyPriority, kKeyResponseMinutes,
  kKeyResolutionMinutes, kKeyScore, kPropKeyCount
};
inline constexpr std::array<std::string_view, kPropKeyCount> kPropKeyNames = {
    "channel", "utm_source", "utm_medium", "utm_campaign", "utm_content", "landing_page",
    "referrer", "page", "page_path", "session_id", "email_id", "email_name", "action",
    "form_id", "form_name", "lead_source", "webinar_id", "webinar_name", "opportunity_id",
    "objection", "outcome", "reason", "topic", "feature", "product", "quantity",
    "plan", "order_id", "from_trial", "ticket_id", "priority", "response_minutes",
    "resolution_minutes", "score"};

}  // namespace cairn::sim
