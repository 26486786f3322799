#pragma once

#include <glib.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "audio_playback.h"
#include "background_call.h"
#include "capture_pipeline.h"
#include "clinician_feed.h"
#include "consultation_session.h"
#include "mode_authority.h"
#include "negotiation.h"
#include "options.h"
#include "redaction_stage.h"
#include "send_pipeline.h"
#include "video_window.h"
#include "whip_client.h"

namespace veil::client {

// veil-patient: capture → RedactionStage → SendPipeline → WHIP publish to veil-server, with the
// mode controlled from stdin. Everything except the capture callbacks runs on one GLib main loop.
class PatientApp {
 public:
  explicit PatientApp(PatientOptions options);
  ~PatientApp();
  PatientApp(const PatientApp&) = delete;
  PatientApp& operator=(const PatientApp&) = delete;

  // Runs until SIGINT/SIGTERM, `quit` on stdin or a fatal error; returns the exit status.
  int run();

 private:
  bool startMedia();
  void onStatus(const SessionStatus& status);
  void subscribeToClinician();
  void onClinicianMessage(const std::string& text);
  void dropClinicianFeed();
  void scheduleRefresh(int delay_seconds);
  void onRefreshDone(RefreshOutcome outcome);
  void adoptSession(const Credentials& credentials);
  // The server ended or refused this session, or it expired: stop sending at once, then quit.
  void endByServer(int exit_status, const std::string& why);
  void stopSending();
  static gboolean onStatusTick(gpointer self);
  void onStatusDone(StatusOutcome outcome);
  static gboolean onRefreshTick(gpointer self);
  static gboolean onKeepAliveTick(gpointer self);
  void onVideoSample(GstSample* sample);
  void onOfferReady(bool ok, const std::string& sdp_or_error);
  void handleControlLine(const std::string& line);
  // `trigger` says who changed it, for the audit log: "patient", "request" (the clinician's,
  // after the device's rules) or "minimum"; the first mode of a session is not a change.
  void applyMode(Mode mode, const char* trigger);
  // Device-reported audit events (mode changes), sent in order off the main loop; only while
  // admitted with a session, dropped once the server ended it.
  void reportEvent(std::string body);
  void sendNextEvent();
  void openCamera();
  void closeCamera();
  void startAvatar();
  void stopAvatar();
  void fail(const std::string& why);
  static gboolean onStdin(GIOChannel* channel, GIOCondition condition, gpointer self);
  static gboolean onAvatarTick(gpointer self);
  static gboolean onQuitSignal(gpointer self);
  static gboolean onStatsTick(gpointer self);
  void openPreviewWindow();
  void onClinicianVideo(GstSample* sample);
  static gboolean onSendCandidateCheck(gpointer self);

  PatientOptions options_;
  std::unique_ptr<GMainLoop, decltype(&g_main_loop_unref)> loop_;
  ModeAuthority authority_;
  RedactionStage redaction_;
  SendPipeline send_;
  OfferNegotiator negotiator_;
  WhipClient whip_;
  std::unique_ptr<CapturePipeline> video_capture_;
  std::unique_ptr<CapturePipeline> audio_capture_;
  std::unique_ptr<GIOChannel, decltype(&g_io_channel_unref)> stdin_channel_;
  std::string resource_;
  // Invite flow only (empty with --token): credentials, waiting room, the clinician's feed.
  std::unique_ptr<ConsultationSession> session_;
  std::unique_ptr<AudioPlayback> playback_;  // before the feed: the feed pushes into it
  // Windows (--display auto with a display): what is sent, and the clinician. Declared before the
  // feed: the feed's streaming thread pushes into the clinician window until the feed is gone.
  bool windows_ = false;
  std::unique_ptr<VideoWindow> preview_window_;
  std::unique_ptr<VideoWindow> clinician_window_;
  std::unique_ptr<ClinicianFeed> clinician_feed_;
  // --ice-policy relay: the session's TURN servers in webrtcbin's form (renewed on refresh).
  std::vector<std::string> relay_turn_uris_;
  std::atomic<std::uint64_t> clinician_frames_{0};
  std::uint64_t clinician_frames_reported_ = 0;
  std::string subscription_id_;
  bool media_started_ = false;
  bool subscribing_ = false;
  guint status_timer_ = 0;
  guint refresh_timer_ = 0;
  guint keepalive_timer_ = 0;
  static constexpr guint kStatusSeconds = 2;      // server/README.md: poll every 2 s
  static constexpr guint kKeepAliveSeconds = 15;  // the server drops a subscription after 60 s
  // Refresh off the main loop (refresh_policy.h: when, how often after a transient failure).
  BackgroundCall<RefreshOutcome> refresh_call_;
  // The status poll, off the main loop too; a tick while one is in flight is skipped.
  BackgroundCall<StatusOutcome> status_call_;
  bool status_in_flight_ = false;
  BackgroundCall<std::string> event_call_;
  std::deque<std::string> pending_events_;
  bool event_in_flight_ = false;
  std::optional<Mode> applied_mode_;
  const char* pending_trigger_ = "request";  // who asked for the mode awaiting `confirm`
  gint64 session_expires_us_ = 0;  // monotonic clock: when the current session token expires
  int refresh_failures_ = 0;
  // Set once the server has ended or refused the session (or it expired): no more requests.
  bool ended_by_server_ = false;
  guint stdin_watch_ = 0;
  guint avatar_timer_ = 0;
  guint sigint_watch_ = 0;
  guint sigterm_watch_ = 0;
  guint media_timeout_ = 0;
  guint stats_timer_ = 0;
  std::atomic<guint> send_candidate_check_{0};
  // Counters for the periodic stats line (frames and timings only, never content).
  std::atomic<std::uint64_t> frames_redacted_{0};
  std::atomic<std::uint64_t> redaction_us_total_{0};
  std::atomic<std::uint64_t> frames_not_normal_{0};
  // Model loading and the first inference at 720p take a few seconds on a slow device.
  static constexpr guint kMediaStartSeconds = 30;
  static constexpr guint kStatsSeconds = 10;
  // Set before the camera closes, so a frame already in flight is dropped, never redacted late.
  std::atomic<bool> camera_frames_allowed_{false};
  std::atomic<bool> first_frame_logged_{false};
  int exit_status_ = 0;
};

}  // namespace veil::client
