// Interface text in English and Japanese. Panels never hard-code words: they
// ask tr(S::..., lang). Protocol lines get plain-word explanations from
// explain_line(), and each story event a sentence from describe_event().
#pragma once

#include "ui/model/world.h"

#include <string>
#include <string_view>

namespace mailsim::ui {

enum class Lang { kEn, kJa };

enum class S {
  // toolbar and playback
  kPlay, kPause, kStepBack, kStepForward, kNextHop, kNextRetry, kRestart, kSpeed, kWaits, kZoom, kLanguage,
  kScenario, kOpenFile, kHelp, kRawBytes, kToEnd,
  // what-if toggles
  kWhatIf, kStartTls, kAuth, kOpenRelay, kServerDown, kUnknownRecipient, kAsScenario, kOn, kOff, kNoServerDown,
  kResetToggles, kChangedFromScenario,
  // panels
  kMap, kConversation, kLetter, kQueue, kMailboxes, kDns, kEavesdropper, kTimeline, kLesson, kStory,
  // places
  kPlaceSenderComputer, kPlaceRecipientComputer, kPlaceOutgoingOffice, kPlacePostOffice, kPlaceSortingOffice,
  kPlaceRecipientOffice, kPlaceDnsDirectory, kPlaceSpammer, kPlaceEavesdropper, kPlaceRouter,
  // things on the map
  kSealedLetter, kPostcard, kKnock, kRefusal, kLetterContent, kClosedSign, kRetryIn, kInTray, kReturnToSender,
  kSpam, kInMailbox, kRoad, kTappedRoad, kRoadDown, kClickToSelect,
  // timeline markers
  kMarkerSent, kMarkerDeferred, kMarkerRetried, kMarkerDelivered, kMarkerBounced, kMarkerDown, kMarkerUp,
  kMarkerRejected, kClock, kTime,
  // conversation
  kClient, kServer, kNoConnection, kTlsFromHere, kRefusedConn, kTimedOutConn, kLoggedInAs, kPlaintextRoad,
  kEncryptedRoad, kConnections,
  // letter
  kEnvelope, kHeaders, kBody, kPostmarks, kNotPostedYet, kNoLetter, kMailFrom, kRcptTo, kStampedBy, kCameFrom,
  kLetters, kCopyAt,
  // queue
  kOffice, kState, kAttempts, kNextTry, kReason, kQueueEmpty, kStateQueued, kStateActive, kStateDeferred,
  kStateSent, kStateDelivered, kStateBounced, kStateExpired, kStateRemoved,
  // mailboxes
  kOnServer, kDownloadedDeleted, kKeptOnServer, kDevice, kNoMailboxes, kPop3Note, kImapNote,
  // dns
  kQuestion, kAnswer, kFromCache, kNoLookups, kWaitingAnswer,
  // eavesdropper
  kReadable, kCiphertext, kPasswordLeaked, kNothingCaptured, kCaptured,
  // lesson / files
  kNoLesson, kDropHint, kLoadFailed, kRunning,
  // help
  kHelpTitle, kHelpPlay, kHelpStep, kHelpHop, kHelpRetry, kHelpRestart, kHelpEnd, kHelpSpeed, kHelpZoom,
  kHelpLang, kHelpRaw, kHelpHelp, kHelpOpen, kHelpMouse,
  kCount
};

const char* tr(S key, Lang lang);
// True when the table behind tr() has one row per S, in order (for a test).
bool strings_table_in_order();
// Caption of a place on the map ("outgoing post office").
const char* place_name(Place place, Lang lang);
// A queue state in words ("deferred" -> "waiting to retry").
const char* queue_state_name(std::string_view state, Lang lang);

// "2d 03:04:05.678" / "0:05:00.000": the simulated clock.
std::string format_clock(Time t);
// "in 4 min 30 s", "in 2 h 5 min" (Japanese: "あと4分30秒").
std::string format_countdown(Time remaining, Lang lang);

// What a protocol line means, in plain words ("" when we have nothing to
// say). `protocol` is "smtp", "pop3" or "imap"; from_client tells a command
// from a reply.
std::string explain_line(std::string_view protocol, std::string_view line, bool from_client, Lang lang);

class TraceIndex;
// One sentence telling what an event means in the story ("alice-pc knocks on
// mail.alpha.example's door (port 587)").
std::string describe_event(const TraceIndex& index, std::size_t event, Lang lang);

}  // namespace mailsim::ui
