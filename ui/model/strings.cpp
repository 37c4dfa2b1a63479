// English and Japanese interface text, explanations of protocol lines
// (RFC 5321 §4.1 commands and §4.2 reply codes, RFC 1939 POP3, RFC 3501 IMAP),
// and the story sentence of each event.
#include "ui/model/strings.h"

#include "ui/model/trace_index.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <fmt/format.h>

namespace mailsim::ui {

namespace {

struct Entry {
  S key;
  const char* en;
  const char* ja;
};

// One row per S value, in enum order (a unit test checks the order).
constexpr Entry kTable[] = {
    {S::kPlay, "Play", "再生"},
    {S::kPause, "Pause", "一時停止"},
    {S::kStepBack, "Step back", "1つ戻る"},
    {S::kStepForward, "Step", "1つ進む"},
    {S::kNextHop, "Next hop", "次の区間へ"},
    {S::kNextRetry, "Next retry", "次の再送へ"},
    {S::kRestart, "Restart", "最初から"},
    {S::kSpeed, "Speed", "速さ"},
    {S::kWaits, "Waits", "待ち時間"},
    {S::kZoom, "Zoom", "拡大"},
    {S::kLanguage, "日本語", "English"},
    {S::kScenario, "Scenario", "シナリオ"},
    {S::kOpenFile, "Open file...", "ファイルを開く..."},
    {S::kHelp, "Help", "ヘルプ"},
    {S::kRawBytes, "Raw bytes", "生のバイト列"},
    {S::kToEnd, "To the end", "最後へ"},
    {S::kWhatIf, "What if...", "もしも..."},
    {S::kStartTls, "STARTTLS (seal the letters)", "STARTTLS (封筒に入れる)"},
    {S::kAuth, "AUTH (show your ID)", "AUTH (本人確認)"},
    {S::kOpenRelay, "Open relay", "オープンリレー"},
    {S::kServerDown, "Server down", "サーバー停止"},
    {S::kUnknownRecipient, "Unknown recipient", "存在しない宛先"},
    {S::kAsScenario, "as in the scenario", "シナリオのまま"},
    {S::kOn, "on", "オン"},
    {S::kOff, "off", "オフ"},
    {S::kNoServerDown, "(none)", "(なし)"},
    {S::kResetToggles, "Back to the scenario", "シナリオに戻す"},
    {S::kChangedFromScenario, "Changed: ", "変更: "},
    {S::kMap, "Map", "地図"},
    {S::kConversation, "Conversation", "会話"},
    {S::kLetter, "Letter", "手紙"},
    {S::kQueue, "Queue", "キュー"},
    {S::kMailboxes, "Mailboxes", "メールボックス"},
    {S::kDns, "DNS", "DNS"},
    {S::kEavesdropper, "Eavesdropper", "盗聴者"},
    {S::kTimeline, "Timeline", "タイムライン"},
    {S::kLesson, "Lesson", "レッスン"},
    {S::kStory, "What is happening", "いま起きていること"},
    {S::kPlaceSenderComputer, "sender's computer", "送り手のパソコン"},
    {S::kPlaceRecipientComputer, "recipient's computer", "受け手のパソコン"},
    {S::kPlaceOutgoingOffice, "outgoing post office", "差出局 (送信サーバー)"},
    {S::kPlacePostOffice, "post office", "郵便局 (メールサーバー)"},
    {S::kPlaceSortingOffice, "sorting office (relay)", "中継局 (リレー)"},
    {S::kPlaceRecipientOffice, "recipient's post office", "配達局 (受信サーバー)"},
    {S::kPlaceDnsDirectory, "DNS directory", "DNS (住所録)"},
    {S::kPlaceSpammer, "spammer", "スパム送信者"},
    {S::kPlaceEavesdropper, "eavesdropper", "盗聴者"},
    {S::kPlaceRouter, "crossroads (router)", "交差点 (ルーター)"},
    {S::kSealedLetter, "Sealed envelope: encrypted with TLS, nobody on the road can read it",
     "封をした封筒: TLS で暗号化され、途中の誰にも読めません"},
    {S::kPostcard, "Postcard: plain text, anyone on the road can read it",
     "はがき: 平文なので、途中の誰でも読めます"},
    {S::kKnock, "Knock on the door: asking to connect (TCP SYN)", "ノック: 接続の申し込み (TCP SYN)"},
    {S::kRefusal, "Door shut: connection refused (TCP RST)", "門前払い: 接続拒否 (TCP RST)"},
    {S::kLetterContent, "The letter itself (headers and body)", "手紙そのもの (ヘッダーと本文)"},
    {S::kClosedSign, "CLOSED", "休業中"},
    {S::kRetryIn, "retry", "再送"},
    {S::kInTray, "letters waiting in the tray", "トレイで待っている手紙"},
    {S::kReturnToSender, "Return to sender", "差出人に返送"},
    {S::kSpam, "spam", "スパム"},
    {S::kInMailbox, "letters in mailboxes here", "ここのメールボックスにある手紙"},
    {S::kRoad, "road", "道"},
    {S::kTappedRoad, "An eavesdropper listens on this road", "この道は盗聴されています"},
    {S::kRoadDown, "This road is cut", "この道は通れません"},
    {S::kClickToSelect, "Click to select", "クリックで選択"},
    {S::kMarkerSent, "sent", "送信"},
    {S::kMarkerDeferred, "deferred", "保留"},
    {S::kMarkerRetried, "retried", "再送"},
    {S::kMarkerDelivered, "delivered", "配達"},
    {S::kMarkerBounced, "bounced", "返送"},
    {S::kMarkerDown, "closed", "停止"},
    {S::kMarkerUp, "reopened", "再開"},
    {S::kMarkerRejected, "rejected", "拒否"},
    {S::kClock, "Simulated clock", "シミュレーション時刻"},
    {S::kTime, "Time", "時刻"},
    {S::kClient, "client", "クライアント"},
    {S::kServer, "server", "サーバー"},
    {S::kNoConnection, "Click a letter on a road or a connection below to read its conversation.",
     "道の上の手紙か、下の接続をクリックすると会話が表示されます。"},
    {S::kTlsFromHere, "From here on the road carries sealed envelopes (TLS)", "ここから先は封をした封筒 (TLS) で運ばれます"},
    {S::kRefusedConn, "Nobody opened the door: connection refused", "誰も扉を開けません: 接続拒否"},
    {S::kTimedOutConn, "Nobody answered: connection timed out", "応答なし: 接続タイムアウト"},
    {S::kLoggedInAs, "logged in as", "ログイン:"},
    {S::kPlaintextRoad, "plain text: readable on the road", "平文: 途中で読めます"},
    {S::kEncryptedRoad, "encrypted on the road", "途中では暗号化"},
    {S::kConnections, "Connections", "接続"},
    {S::kEnvelope, "Envelope (what the post offices read)", "封筒 (郵便局が読む宛名)"},
    {S::kHeaders, "Headers (the letterhead)", "ヘッダー (便せんの頭書き)"},
    {S::kBody, "Body (the letter)", "本文 (手紙の中身)"},
    {S::kPostmarks, "Postmarks (Received:), newest first", "消印 (Received:) 新しい順"},
    {S::kNotPostedYet, "This letter has not been handed over yet at this moment.", "この時点では、まだこの手紙は渡されていません。"},
    {S::kNoLetter, "Click a letter on the map (or in the queue or a mailbox) to open it.",
     "地図の手紙 (またはキューやメールボックスの手紙) をクリックすると中身が見られます。"},
    {S::kMailFrom, "MAIL FROM (return address)", "MAIL FROM (差出人・返送先)"},
    {S::kRcptTo, "RCPT TO (deliver to)", "RCPT TO (宛先)"},
    {S::kStampedBy, "stamped by", "押印"},
    {S::kCameFrom, "came from", "差出元"},
    {S::kLetters, "Letters", "手紙"},
    {S::kCopyAt, "copy as it reached", "到着時の状態:"},
    {S::kOffice, "Office", "局"},
    {S::kState, "State", "状態"},
    {S::kAttempts, "Tries", "試行"},
    {S::kNextTry, "Next try", "次の試行"},
    {S::kReason, "Last reason", "理由"},
    {S::kQueueEmpty, "No letters in any queue yet.", "まだキューに手紙はありません。"},
    {S::kStateQueued, "in the tray", "トレイで待機"},
    {S::kStateActive, "being delivered", "配達中"},
    {S::kStateDeferred, "waiting to retry", "再送待ち"},
    {S::kStateSent, "handed on", "引き渡し済み"},
    {S::kStateDelivered, "delivered", "配達済み"},
    {S::kStateBounced, "bounced", "返送"},
    {S::kStateExpired, "gave up", "断念"},
    {S::kStateRemoved, "removed", "削除"},
    {S::kOnServer, "on the server", "サーバー上"},
    {S::kDownloadedDeleted, "downloaded and deleted from the server", "ダウンロード後サーバーから削除"},
    {S::kKeptOnServer, "kept on the server", "サーバーに残る"},
    {S::kDevice, "device", "端末"},
    {S::kNoMailboxes, "No letter has reached a mailbox yet.", "まだメールボックスに届いた手紙はありません。"},
    {S::kPop3Note, "POP3: the letter is taken home and (usually) deleted from the server",
     "POP3: 手紙を持ち帰り、(ふつうは) サーバーから消します"},
    {S::kImapNote, "IMAP: the letter stays on the server; every device sees it",
     "IMAP: 手紙はサーバーに残り、どの端末からも見えます"},
    {S::kQuestion, "Question", "問い合わせ"},
    {S::kAnswer, "Answer", "答え"},
    {S::kFromCache, "from the cache", "キャッシュから"},
    {S::kNoLookups, "No DNS lookups yet.", "まだ DNS の問い合わせはありません。"},
    {S::kWaitingAnswer, "waiting for the answer...", "答えを待っています..."},
    {S::kReadable, "readable", "読める"},
    {S::kCiphertext, "ciphertext", "暗号文"},
    {S::kPasswordLeaked, "PASSWORD LEAKED", "パスワード漏洩"},
    {S::kNothingCaptured, "The eavesdropper has not seen anything yet.", "盗聴者はまだ何も見ていません。"},
    {S::kCaptured, "captured packets", "盗み見たパケット"},
    {S::kNoLesson, "No lesson goes with this scenario.", "このシナリオにはレッスンがありません。"},
    {S::kDropHint, "Drop a scenario (.json) or trace (.jsonl) here to open it.",
     "シナリオ (.json) やトレース (.jsonl) をここにドロップすると開きます。"},
    {S::kLoadFailed, "Could not open", "開けませんでした"},
    {S::kRunning, "Running the scenario...", "シナリオを実行中..."},
    {S::kHelpTitle, "Keyboard shortcuts", "キーボード操作"},
    {S::kHelpPlay, "Space: play / pause", "スペース: 再生 / 一時停止"},
    {S::kHelpStep, "Right / Left: next / previous event", "→ / ←: 次 / 前の出来事"},
    {S::kHelpHop, "H: jump to the next hop (a letter arrives somewhere)", "H: 次の区間へ (手紙がどこかに届く)"},
    {S::kHelpRetry, "R: jump to the next retry", "R: 次の再送へ"},
    {S::kHelpRestart, "Home or Backspace: restart", "Home または Backspace: 最初から"},
    {S::kHelpEnd, "End: jump to the end", "End: 最後へ"},
    {S::kHelpSpeed, "- / +: slower / faster", "- / +: 遅く / 速く"},
    {S::kHelpZoom, "Ctrl + / Ctrl - / Ctrl 0: text size for the projector", "Ctrl + / Ctrl - / Ctrl 0: 文字の大きさ (プロジェクター用)"},
    {S::kHelpLang, "L: English / 日本語", "L: 日本語 / English"},
    {S::kHelpRaw, "B: raw bytes in the conversation", "B: 会話に生のバイト列を表示"},
    {S::kHelpHelp, "F1 or ?: this help", "F1 または ?: このヘルプ"},
    {S::kHelpOpen, "Ctrl O: open a file; or drop it on the window", "Ctrl O: ファイルを開く (ウィンドウへのドロップも可)"},
    {S::kHelpMouse, "Mouse: hover to learn what a thing is, click to select it everywhere, drag the timeline",
     "マウス: 重ねると説明、クリックで全パネルで選択、タイムラインはドラッグで移動"},
};
static_assert(std::size(kTable) == static_cast<std::size_t>(S::kCount), "one row per string");

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string first_word(std::string_view line) {
  const auto sp = line.find_first_of(" \t");
  return upper(line.substr(0, sp));
}

}  // namespace

const char* tr(S key, Lang lang) {
  const auto& e = kTable[static_cast<std::size_t>(key)];
  return lang == Lang::kJa ? e.ja : e.en;
}

bool strings_table_in_order() {
  for (std::size_t i = 0; i < std::size(kTable); ++i)
    if (static_cast<std::size_t>(kTable[i].key) != i) return false;
  return true;
}

const char* place_name(Place place, Lang lang) {
  return tr(static_cast<S>(static_cast<int>(S::kPlaceSenderComputer) + static_cast<int>(place)), lang);
}

const char* queue_state_name(std::string_view state, Lang lang) {
  if (state == "queued") return tr(S::kStateQueued, lang);
  if (state == "active") return tr(S::kStateActive, lang);
  if (state == "deferred") return tr(S::kStateDeferred, lang);
  if (state == "sent") return tr(S::kStateSent, lang);
  if (state == "delivered") return tr(S::kStateDelivered, lang);
  if (state == "bounced") return tr(S::kStateBounced, lang);
  if (state == "expired") return tr(S::kStateExpired, lang);
  if (state == "removed") return tr(S::kStateRemoved, lang);
  return "?";
}

std::string format_clock(Time t) {
  if (t < 0) t = 0;
  const Time ms = (t / 1000) % 1000, s = (t / sim::kSecond) % 60, m = (t / sim::kMinute) % 60,
             h = (t / sim::kHour) % 24, d = t / sim::kDay;
  if (d > 0) return fmt::format("{}d {:02}:{:02}:{:02}.{:03}", d, h, m, s, ms);
  return fmt::format("{}:{:02}:{:02}.{:03}", h, m, s, ms);
}

std::string format_countdown(Time r, Lang lang) {
  if (r < 0) r = 0;
  const Time total_s = (r + sim::kSecond - 1) / sim::kSecond;
  const Time d = total_s / 86400, h = (total_s / 3600) % 24, m = (total_s / 60) % 60, s = total_s % 60;
  if (lang == Lang::kJa) {
    if (d > 0) return fmt::format("あと{}日{}時間", d, h);
    if (h > 0) return fmt::format("あと{}時間{}分", h, m);
    if (m > 0) return fmt::format("あと{}分{}秒", m, s);
    return fmt::format("あと{}秒", s);
  }
  if (d > 0) return fmt::format("in {} d {} h", d, h);
  if (h > 0) return fmt::format("in {} h {} min", h, m);
  if (m > 0) return fmt::format("in {} min {} s", m, s);
  return fmt::format("in {} s", s);
}

std::string explain_line(std::string_view protocol, std::string_view line, bool from_client, Lang lang) {
  const bool ja = lang == Lang::kJa;
  auto say = [&](const char* en, const char* jp) { return std::string(ja ? jp : en); };
  if (protocol == "smtp") {
    if (from_client) {
      const std::string verb = first_word(line);
      if (verb == "EHLO") return say("Hello, I am this computer, and I speak Extended SMTP: what can you do?",
                                     "こんにちは、私はこのコンピューターです。拡張 SMTP で話します。何ができますか?");
      if (verb == "HELO") return say("Hello, I am this computer (old-style greeting).", "こんにちは、私はこのコンピューターです (昔ながらの挨拶)。");
      if (verb == "STARTTLS") return say("Let's seal everything from now on: start encryption (TLS).",
                                         "ここから先は封をしましょう: 暗号化 (TLS) を始めます。");
      if (verb == "AUTH") return say("Here is my ID: user name and password (base64 is NOT encryption).",
                                     "本人確認です: ユーザー名とパスワード (base64 は暗号化ではありません)。");
      if (verb == "MAIL") return say("The envelope's return address: bounces go back here.",
                                     "封筒の差出人 (返送先) です。届かなかったときはここに戻ります。");
      if (verb == "RCPT") return say("Please deliver this letter to this person.", "この人に届けてください。");
      if (verb == "DATA") return say("I am ready to hand over the letter itself.", "手紙そのものを渡します。");
      if (verb == "QUIT") return say("That's all, goodbye.", "以上です、さようなら。");
      if (verb == "RSET") return say("Forget this envelope, start over.", "この封筒は取り消して、やり直します。");
      if (verb == "NOOP") return say("Just checking you are still there.", "まだつながっているか確認するだけです。");
      if (verb == "VRFY") return say("Does this person exist here?", "この人はここにいますか?");
      if (line == ".") return say("End of the letter.", "手紙はここまでです。");
      return say("A line of the letter itself, or a base64 answer to the server's question.",
                 "手紙の1行、またはサーバーの質問への base64 の答えです。");
    }
    const int code = std::atoi(std::string(line.substr(0, 3)).c_str());
    switch (code) {
      case 220: return say("Service ready: the post office opens its counter.", "準備OK: 窓口が開きました。");
      case 221: return say("Goodbye: the counter closes this conversation.", "さようなら: 会話を終わります。");
      case 235: return say("ID accepted: you are logged in.", "本人確認OK: ログインしました。");
      case 250: return say("OK, done.", "了解、受け付けました。");
      case 251: return say("Not local, but I will forward it.", "ここの人ではありませんが、転送します。");
      case 252: return say("Cannot check that person, but will try to deliver.", "確認はできませんが、配達を試みます。");
      case 334: return say("Go on: send the next piece of your ID (base64).", "続けて: 本人確認の続きを送ってください (base64)。");
      case 354: return say("Go ahead: send the letter, end it with a line holding only a dot.",
                           "どうぞ: 手紙を送ってください。最後は「.」だけの行です。");
      case 421: return say("Service not available now, try again later (temporary: 4xx).",
                           "今は受け付けられません。あとでもう一度 (一時的なエラー: 4xx)。");
      case 450: case 451: case 452:
        return say("Temporary problem: keep the letter and try again later (4xx).",
                   "一時的な問題: 手紙を持ったまま、あとで再送してください (4xx)。");
      case 454: return say("Encryption not available right now (temporary).", "今は暗号化できません (一時的)。");
      case 500: case 501: case 502: case 503: case 504:
        return say("I did not understand, or not in this order (5xx: permanent).", "わかりません、または順番が違います (5xx: 恒久的)。");
      case 530: return say("Show your ID first: authentication required.", "先に本人確認をしてください: 認証が必要です。");
      case 535: return say("Wrong user name or password.", "ユーザー名かパスワードが違います。");
      case 538: return say("Encryption is required before showing your ID.", "本人確認の前に暗号化が必要です。");
      case 550: return say("Refused for good: no such person, or not allowed (5xx: do not retry).",
                           "恒久的に拒否: そんな人はいない、または許可されていません (5xx: 再送しない)。");
      case 551: return say("Not here; try another address.", "ここにはいません。別の宛先へ。");
      case 552: return say("Too big or mailbox full.", "大きすぎるか、メールボックスがいっぱいです。");
      case 553: return say("That address is not acceptable.", "そのアドレスは受け付けられません。");
      case 554: return say("Transaction failed: refused (often: relaying denied or blocklisted).",
                           "処理失敗: 拒否されました (中継の拒否やブロックリストなど)。");
      default: break;
    }
    if (code >= 400 && code < 500) return say("A temporary failure: try again later.", "一時的な失敗: あとで再送します。");
    if (code >= 500) return say("A permanent failure: do not try again.", "恒久的な失敗: 再送しません。");
    if (code >= 200 && code < 400) return say("Positive reply.", "肯定の返事です。");
    return {};
  }
  if (protocol == "pop3") {
    if (from_client) {
      const std::string verb = first_word(line);
      if (verb == "USER") return say("My user name is...", "ユーザー名は...");
      if (verb == "PASS") return say("My password, in the clear unless the road is sealed!", "パスワードです。封をしていなければ丸見えです!");
      if (verb == "STAT") return say("How many letters are in my mailbox?", "メールボックスに手紙は何通ありますか?");
      if (verb == "LIST") return say("List my letters and their sizes.", "手紙の一覧と大きさを教えてください。");
      if (verb == "UIDL") return say("Give me each letter's unique id (to remember what I already have).",
                                     "各手紙の固有 ID を教えてください (取得済みか覚えるため)。");
      if (verb == "RETR") return say("Hand me this letter: I take it home.", "この手紙をください: 持ち帰ります。");
      if (verb == "DELE") return say("Delete this letter from the server.", "この手紙をサーバーから消してください。");
      if (verb == "QUIT") return say("Goodbye: now apply the deletions.", "さようなら: 削除を実行してください。");
      if (verb == "CAPA") return say("What can you do?", "何ができますか?");
      if (verb == "STLS") return say("Let's seal the conversation: start TLS.", "会話に封をしましょう: TLS を始めます。");
      if (verb == "AUTH") return say("Here is my ID (SASL).", "本人確認です (SASL)。");
      return {};
    }
    if (line.rfind("+OK", 0) == 0) return say("Yes, OK.", "はい、OK です。");
    if (line.rfind("-ERR", 0) == 0) return say("No: something went wrong.", "いいえ: 失敗しました。");
    return {};
  }
  if (protocol == "imap") {
    if (from_client) {
      std::string_view rest = line;
      const auto sp = rest.find(' ');
      if (sp != std::string_view::npos) rest = rest.substr(sp + 1);  // skip the tag
      std::string verb = first_word(rest);
      if (verb == "UID") {
        const auto sp2 = rest.find(' ');
        if (sp2 != std::string_view::npos) verb = first_word(rest.substr(sp2 + 1));
      }
      if (verb == "CAPABILITY") return say("What can you do?", "何ができますか?");
      if (verb == "STARTTLS") return say("Let's seal the conversation: start TLS.", "会話に封をしましょう: TLS を始めます。");
      if (verb == "LOGIN") return say("User name and password, in the clear unless the road is sealed!",
                                      "ユーザー名とパスワード。封をしていなければ丸見えです!");
      if (verb == "AUTHENTICATE") return say("Here is my ID (SASL).", "本人確認です (SASL)。");
      if (verb == "SELECT") return say("Open this folder (the letters stay on the server).", "このフォルダーを開きます (手紙はサーバーに残ります)。");
      if (verb == "EXAMINE") return say("Look into this folder without changing anything.", "何も変えずにフォルダーを見ます。");
      if (verb == "FETCH") return say("Show me these letters (a copy; the original stays on the server).",
                                      "この手紙を見せてください (写しです。原本はサーバーに残ります)。");
      if (verb == "STORE") return say("Set flags on a letter (for example: read).", "手紙に印を付けます (例: 既読)。");
      if (verb == "SEARCH") return say("Find letters on the server.", "サーバー上で手紙を探します。");
      if (verb == "IDLE") return say("Tell me at once when a new letter arrives.", "新しい手紙が来たらすぐ教えてください。");
      if (verb == "LOGOUT") return say("Goodbye.", "さようなら。");
      if (verb == "NOOP") return say("Anything new?", "何か新しいことは?");
      if (verb == "EXPUNGE") return say("Really remove the letters marked deleted.", "削除の印を付けた手紙を本当に消します。");
      if (verb == "LIST") return say("Which folders are there?", "どんなフォルダーがありますか?");
      return {};
    }
    if (line.rfind("* ", 0) == 0) return say("Information from the server (untagged).", "サーバーからのお知らせ (タグなし)。");
    const std::string up = upper(line);
    if (up.find(" OK") != std::string::npos) return say("Done, OK.", "完了しました。");
    if (up.find(" NO") != std::string::npos) return say("Refused.", "拒否されました。");
    if (up.find(" BAD") != std::string::npos) return say("Not understood.", "理解できません。");
    return {};
  }
  return {};
}

std::string describe_event(const TraceIndex& index, std::size_t i, Lang lang) {
  using sim::EventKind;
  const bool ja = lang == Lang::kJa;
  const auto& e = index.events()[i];
  const std::string& h = e.host;
  switch (e.kind) {
    case EventKind::kConnect: {
      const auto* c = e.as<sim::ConnPayload>();
      return ja ? fmt::format("{} が {} の扉をノックします (ポート {})。", h, c->peer, c->remote_port)
                : fmt::format("{} knocks on {}'s door (port {}).", h, c->peer, c->remote_port);
    }
    case EventKind::kConnected: {
      const auto* c = e.as<sim::ConnPayload>();
      return ja ? fmt::format("{} と {} がつながりました。", h, c->peer) : fmt::format("{} is connected to {}.", h, c->peer);
    }
    case EventKind::kAccept: {
      const auto* c = e.as<sim::ConnPayload>();
      return ja ? fmt::format("{} が {} を迎え入れます (ポート {})。", h, c->peer, c->local_port)
                : fmt::format("{} lets {} in (port {}).", h, c->peer, c->local_port);
    }
    case EventKind::kRefused: {
      const auto* c = e.as<sim::ConnPayload>();
      return ja ? fmt::format("{} の扉は閉まっています: 接続拒否。", c->peer)
                : fmt::format("{}'s door is shut: connection refused.", c->peer);
    }
    case EventKind::kConnectTimeout: {
      const auto* c = e.as<sim::ConnPayload>();
      return ja ? fmt::format("{} から応答がありません: タイムアウト。", c->peer)
                : fmt::format("Nobody answers at {}: timed out.", c->peer);
    }
    case EventKind::kClose:
      return ja ? fmt::format("{} が会話を終えます。", h) : fmt::format("{} ends the conversation.", h);
    case EventKind::kReset: {
      const auto* c = e.as<sim::ConnPayload>();
      return ja ? fmt::format("{} の接続が切れました ({})。", h, c->reason)
                : fmt::format("{}'s connection was cut ({}).", h, c->reason);
    }
    case EventKind::kCommand: {
      const auto* c = e.as<sim::CommandPayload>();
      const std::string what = explain_line(c->protocol, c->line, true, lang);
      return fmt::format("{} » {}   {}", h, c->line, what);
    }
    case EventKind::kReply: {
      const auto* r = e.as<sim::ReplyPayload>();
      std::string first = r->text.substr(0, r->text.find('\n'));
      std::string line = r->protocol == "smtp" && r->code ? std::to_string(r->code) + " " + first : first;
      const std::string what = explain_line(r->protocol, line, false, lang);
      return fmt::format("{} « {}   {}", h, line, what);
    }
    case EventKind::kTls: {
      const auto* t = e.as<sim::TlsPayload>();
      if (t->ok)
        return ja ? fmt::format("{}: 封ができました ({} {})。ここから先は暗号文です。", h, t->version, t->cipher)
                  : fmt::format("{}: the envelope is sealed ({} {}). From here on the road sees only ciphertext.", h,
                                t->version, t->cipher);
      return ja ? fmt::format("{}: 暗号化に失敗しました ({})。", h, t->reason)
                : fmt::format("{}: sealing failed ({}).", h, t->reason);
    }
    case EventKind::kAuth: {
      const auto* a = e.as<sim::AuthPayload>();
      if (ja)
        return a->ok ? fmt::format("{} として本人確認できました{}。", a->user, a->over_tls ? " (暗号化済み)" : " (平文で!)")
                     : fmt::format("{} の本人確認に失敗しました。", a->user);
      return a->ok ? fmt::format("{} showed a valid ID{}.", a->user, a->over_tls ? " (over TLS)" : " (in the clear!)")
                   : fmt::format("{}'s ID was refused.", a->user);
    }
    case EventKind::kDnsQuery: {
      const auto* d = e.as<sim::DnsPayload>();
      return ja ? fmt::format("{} が DNS に尋ねます: {} の {} レコードは?", h, d->name, d->type)
                : fmt::format("{} asks DNS: what is the {} record of {}?", h, d->type, d->name);
    }
    case EventKind::kDnsAnswer: {
      const auto* d = e.as<sim::DnsPayload>();
      std::string values;
      for (const auto& r : d->records)
        values += (values.empty() ? "" : ", ") + (r.type == "MX" ? std::to_string(r.preference) + " " : "") + r.value;
      if (values.empty()) values = d->rcode;
      return ja ? fmt::format("DNS の答え: {} {} → {}", d->name, d->type, values)
                : fmt::format("DNS answers: {} {} → {}", d->name, d->type, values);
    }
    case EventKind::kQueue: {
      const auto* q = e.as<sim::QueuePayload>();
      return ja ? fmt::format("{} のキュー: 手紙 {} は「{}」{}", h, q->queue_id, queue_state_name(q->state, lang),
                              q->reason.empty() ? "" : " (" + q->reason + ")")
                : fmt::format("{}'s queue: letter {} is {}{}", h, q->queue_id, queue_state_name(q->state, lang),
                              q->reason.empty() ? "" : " (" + q->reason + ")");
    }
    case EventKind::kRetry: {
      const auto* q = e.as<sim::QueuePayload>();
      return ja ? fmt::format("{} は {} に再送します ({}回目の後)。", h, format_clock(q->retry_at), q->attempt)
                : fmt::format("{} will try again at {} (after attempt {}).", h, format_clock(q->retry_at), q->attempt);
    }
    case EventKind::kDelivery: {
      const auto* m = e.as<sim::MessagePayload>();
      return ja ? fmt::format("{} のメールボックスに配達されました (消印 {} 個)。", m->recipient, m->received_headers)
                : fmt::format("Delivered into {}'s mailbox ({} postmarks).", m->recipient, m->received_headers);
    }
    case EventKind::kBounce: {
      const auto* m = e.as<sim::MessagePayload>();
      return ja ? fmt::format("{} 宛ての手紙は {} に返送されます ({}: {})。", m->recipient, m->sender, m->status, m->diagnostic)
                : fmt::format("The letter to {} goes back to {} ({}: {}).", m->recipient, m->sender, m->status,
                              m->diagnostic);
    }
    case EventKind::kMailbox: {
      const auto* m = e.as<sim::MailboxPayload>();
      if (m->action == "stored")
        return ja ? fmt::format("{} のメールボックスに手紙が入りました ({} 通)。", m->user, m->count)
                  : fmt::format("A letter lands in {}'s mailbox ({} now).", m->user, m->count);
      if (m->action == "fetched")
        return ja ? fmt::format("{} が {} の手紙を受け取りました。", m->device.empty() ? m->user : m->device, m->user)
                  : fmt::format("{} collects {}'s letter.", m->device.empty() ? m->user : m->device, m->user);
      if (m->action == "deleted")
        return ja ? fmt::format("{} の手紙がサーバーから消されました ({} 通)。", m->user, m->count)
                  : fmt::format("{}'s letter is deleted from the server ({} left).", m->user, m->count);
      return ja ? fmt::format("{} のメールボックス: {}", m->user, m->action)
                : fmt::format("{}'s mailbox: {}", m->user, m->action);
    }
    case EventKind::kHostDown: {
      const auto* o = e.as<sim::OutagePayload>();
      return ja ? fmt::format("{} が休業します{}。", o->target, o->reason.empty() ? "" : " (" + o->reason + ")")
                : fmt::format("{} closes{}.", o->target, o->reason.empty() ? "" : " (" + o->reason + ")");
    }
    case EventKind::kHostUp: {
      const auto* o = e.as<sim::OutagePayload>();
      return ja ? fmt::format("{} が営業を再開しました。", o->target) : fmt::format("{} is open again.", o->target);
    }
    case EventKind::kLinkDown:
    case EventKind::kLinkUp:
    case EventKind::kPortDown:
    case EventKind::kPortUp: {
      const auto* o = e.as<sim::OutagePayload>();
      const bool down = e.kind == EventKind::kLinkDown || e.kind == EventKind::kPortDown;
      return ja ? fmt::format("{} が{}。", o->target, down ? "使えなくなりました" : "使えるようになりました")
                : fmt::format("{} is {}.", o->target, down ? "closed" : "open again");
    }
    case EventKind::kNote: {
      const auto* n = e.as<sim::NotePayload>();
      return ja && !n->text_ja.empty() ? n->text_ja : n->text;
    }
    case EventKind::kCapture: {
      const auto* c = e.as<sim::CapturePayload>();
      return ja ? fmt::format("{} が {} → {} のパケットを盗み見ました ({})。", h, c->from, c->to, c->encrypted ? "暗号文" : "読める")
                : fmt::format("{} copies a packet {} → {} ({}).", h, c->from, c->to, c->encrypted ? "ciphertext" : "readable");
    }
    default: break;
  }
  return std::string(sim::kind_name(e.kind));
}

}  // namespace mailsim::ui
