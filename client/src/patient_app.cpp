#include "patient_app.h"

#include <glib-unix.h>
#include <gst/video/video.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "capture_sources.h"
#include "log.h"

namespace veil::client {
namespace {

constexpr const char* kPreviewTitle = "Veil - what the clinician sees of you";
constexpr const char* kClinicianTitle = "Veil - clinician";

bool wantsWindows(const PatientOptions& options) {
  return options.display == PatientOptions::Display::kAuto && VideoWindow::displayConfigured();
}

SendPipeline::Config sendConfig(const PatientOptions& options) {
  return {.codec = options.codec,
          .width = options.width,
          .height = options.height,
          .fps = options.fps,
          .ice_address = options.ice_address,
          .audio = options.audio,
          .latency_stamp = options.latency_stamp,
          .preview = wantsWindows(options)};
}

RedactorOptions redactorOptions(const PatientOptions& options) {
  RedactorOptions redactor;
  redactor.mode = options.mode;
  redactor.models_dir = options.models_dir;
  return redactor;
}

ServerEndpoint endpointFor(const PatientOptions& options) {
  if (!options.invite_url.empty()) {
    const auto link = parseInviteLink(options.invite_url);
    if (!link) throw std::runtime_error("the invite link is not https://HOST/join#invite=CODE");
    return {link->server, options.ca_file};
  }
  const auto server = parseServerUrl(options.server_url);
  if (!server) throw std::runtime_error("--server must be an http(s) URL");
  return {*server, options.ca_file};
}

WhipClient makeWhipClient(const PatientOptions& options) {
  return WhipClient(endpointFor(options), options.token);
}

}  // namespace

PatientApp::PatientApp(PatientOptions options)
    : options_(std::move(options)),
      loop_(g_main_loop_new(nullptr, FALSE), &g_main_loop_unref),
      authority_(options_.mode),
      redaction_(redactorOptions(options_)),
      send_(sendConfig(options_)),
      negotiator_(send_.webrtc()),
      whip_(makeWhipClient(options_)),
      stdin_channel_(nullptr, &g_io_channel_unref),
      windows_(wantsWindows(options_)) {
  send_.setStateCallback([this](const std::string& what) {
    logLine(what);
    // Called on a webrtcbin thread: the check runs on the main loop once a pair is selected.
    if (what == "connection-state connected" && send_candidate_check_ == 0) {
      send_candidate_check_ = g_timeout_add_seconds(1, &PatientApp::onSendCandidateCheck, this);
    }
    // A broken pipeline or a dead connection ends the process with an error, so whatever runs it
    // (the demo script, a supervisor) sees it; publishing again replaces the old feed.
    if (what.starts_with("error ") || what == "connection-state failed") {
      g_idle_add(
          [](gpointer self) -> gboolean {
            static_cast<PatientApp*>(self)->fail("send pipeline or connection failed");
            return G_SOURCE_REMOVE;
          },
          this);
    }
  });
  if (!options_.invite_url.empty()) {
    const auto link = parseInviteLink(options_.invite_url);
    session_ = std::make_unique<ConsultationSession>(endpointFor(options_));
    if (!session_->redeem(link->code, options_.display_name)) {
      throw std::runtime_error(session_->error());
    }
    options_.consultation_id = session_->consultation();
    whip_.setToken(session_->token());
    session_expires_us_ =
        g_get_monotonic_time() + gint64{session_->expiresInSeconds()} * G_USEC_PER_SEC;
    // The consultation's minimum mode binds from the first frame; a looser one is ignored.
    if (const auto minimum = parseMode(session_->minMode())) {
      if (authority_.request(*minimum) != ModeAuthority::Outcome::kApplied) authority_.cancel();
    }
    logLine("invite redeemed");
  }
  if (options_.ice_policy == PatientOptions::IcePolicy::kRelay) {
    if (session_->turn()) relay_turn_uris_ = webrtcbinTurnUris(*session_->turn());
    if (relay_turn_uris_.empty()) {
      throw std::runtime_error(
          "--ice-policy relay: the server issued no usable TURN credentials (veil-server needs "
          "--turn-secret-file and --turn-url)");
    }
    useRelayOnly(send_.webrtc(), relay_turn_uris_);
    logLine("ICE: relay only, through " + std::to_string(relay_turn_uris_.size()) +
            " TURN server(s)");
  }
  if (!redaction_.modelError().empty()) {
    logLine("model unavailable, every frame is fully redacted: " + redaction_.modelError());
  }
}

PatientApp::~PatientApp() {
  if (status_timer_ != 0) g_source_remove(status_timer_);
  if (refresh_timer_ != 0) g_source_remove(refresh_timer_);
  if (keepalive_timer_ != 0) g_source_remove(keepalive_timer_);
  clinician_feed_.reset();
  if (media_timeout_ != 0) g_source_remove(media_timeout_);
  if (stats_timer_ != 0) g_source_remove(stats_timer_);
  if (const guint check = send_candidate_check_.exchange(0); check != 0) g_source_remove(check);
  stopAvatar();
  closeCamera();
  audio_capture_.reset();
  send_.stop();
  if (stdin_watch_ != 0) g_source_remove(stdin_watch_);
  if (sigint_watch_ != 0) g_source_remove(sigint_watch_);
  if (sigterm_watch_ != 0) g_source_remove(sigterm_watch_);
}

int PatientApp::run() {
  sigint_watch_ = g_unix_signal_add(SIGINT, &PatientApp::onQuitSignal, this);
  sigterm_watch_ = g_unix_signal_add(SIGTERM, &PatientApp::onQuitSignal, this);
  stdin_channel_.reset(g_io_channel_unix_new(STDIN_FILENO));
  stdin_watch_ =
      g_io_add_watch(stdin_channel_.get(), static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                     &PatientApp::onStdin, this);

  if (session_ && options_.audio_out != PatientOptions::AudioOut::kNone) {
    try {
      playback_ =
          std::make_unique<AudioPlayback>(options_.audio_out == PatientOptions::AudioOut::kDevice
                                              ? AudioPlayback::Output::kDevice
                                              : AudioPlayback::Output::kDiscard);
    } catch (const std::exception& error) {
      logLine(std::string("the clinician's audio will not play: ") + error.what());
    }
  }
  if (session_) {
    logLine("waiting: the clinician has not admitted you yet");
    scheduleRefresh(refreshDelaySeconds(session_->expiresInSeconds()));
    status_timer_ = g_timeout_add_seconds(kStatusSeconds, &PatientApp::onStatusTick, this);
  } else if (!startMedia()) {
    return kExitError;
  }

  g_main_loop_run(loop_.get());

  // After the server ended or refused the session, its tokens open nothing: no more requests.
  if (!resource_.empty() && !ended_by_server_) {
    logLine(whip_.remove(resource_) ? "unpublished" : "could not delete the publish resource");
    resource_.clear();
  }
  dropClinicianFeed();
  if (session_ && !ended_by_server_) {
    session_->leave();
    logLine("left the consultation");
  }
  stopAvatar();
  closeCamera();
  audio_capture_.reset();
  send_.stop();
  logLine("stopped");
  return exit_status_;
}

void PatientApp::openPreviewWindow() {
  if (!windows_ || preview_window_) return;
  try {
    preview_window_ = std::make_unique<VideoWindow>(kPreviewTitle);
  } catch (const std::exception& error) {
    logLine(std::string("no preview window: ") + error.what());
    return;
  }
  // Only the send pipeline's tee feeds this window: redacted frames, exactly as encoded.
  send_.setPreviewCallback(
      [window = preview_window_.get()](GstSample* sample) { window->push(sample); });
  logLine("preview window open (what the clinician sees of you)");
}

void PatientApp::onClinicianVideo(GstSample* sample) {
  clinician_frames_++;
  if (clinician_window_) clinician_window_->push(sample);
}

gboolean PatientApp::onSendCandidateCheck(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  self->send_candidate_check_ = 0;
  // Which path the media takes (host, relay...), never an address.
  selectedCandidateType(self->send_.webrtc(), [](const std::string& type) {
    logLine("send: ICE selected local candidate " + (type.empty() ? "unknown" : type));
  });
  return G_SOURCE_REMOVE;
}

bool PatientApp::startMedia() {
  media_started_ = true;
  openPreviewWindow();
  if (!send_.start()) {
    logLine("cannot start the send pipeline");
    return false;
  }
  // Offer only once redacted video (and audio) reach webrtcbin, so the offer names the SSRCs
  // that will really be sent. Registered before any media starts.
  media_timeout_ = g_timeout_add_seconds(
      kMediaStartSeconds,
      [](gpointer self) -> gboolean {
        auto* app = static_cast<PatientApp*>(self);
        app->media_timeout_ = 0;
        app->fail("no media reached the send pipeline in time");
        return G_SOURCE_REMOVE;
      },
      this);
  send_.whenMediaFlowing([this] {
    if (media_timeout_ != 0) g_source_remove(media_timeout_);
    media_timeout_ = 0;
    negotiator_.createOffer(
        [this](bool ok, const std::string& sdp_or_error) { onOfferReady(ok, sdp_or_error); });
  });
  if (options_.audio) {
    const bool echo_cancel = playback_ != nullptr && options_.source == SourceKind::kCamera;
    const CaptureDescription audio = audioCaptureDescription(options_, echo_cancel);
    audio_capture_ = std::make_unique<CapturePipeline>(
        "audio capture", audio.launch, audio.configure,
        [this](GstSample* sample) { send_.pushAudio(sample); },
        [this](const std::string& why) { fail(why); });
    if (!audio_capture_->start()) {
      logLine("cannot start audio capture");
      return false;
    }
  }
  applyMode(authority_.current(), "patient");
  stats_timer_ = g_timeout_add_seconds(kStatsSeconds, &PatientApp::onStatsTick, this);
  return true;
}

gboolean PatientApp::onStatusTick(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  if (self->status_in_flight_) return G_SOURCE_CONTINUE;  // a slow server: one poll at a time
  self->status_in_flight_ = true;
  self->status_call_.start([input = self->session_->statusInput()] { return requestStatus(input); },
                           [self](StatusOutcome outcome) {
                             self->status_in_flight_ = false;
                             self->onStatusDone(std::move(outcome));
                           });
  return G_SOURCE_CONTINUE;
}

void PatientApp::onStatusDone(StatusOutcome outcome) {
  if (ended_by_server_) return;
  switch (outcome.verdict) {
    case ServerVerdict::kOk:
      onStatus(*outcome.status);
      return;
    case ServerVerdict::kTransient:
      logLine(outcome.error);  // may be a network blip: the next poll tries again
      return;
    case ServerVerdict::kEnded:
      endByServer(kExitNormal, "the consultation has ended (" + outcome.error + ")");
      return;
    case ServerVerdict::kExpired:
      endByServer(kExitSessionExpired, "the session expired (" + outcome.error + ")");
      return;
    case ServerVerdict::kRefused:
      endByServer(kExitRevoked, "the server no longer accepts this device (" + outcome.error + ")");
      return;
  }
}

void PatientApp::onStatus(const SessionStatus& status) {
  if (status.state != "admitted") return;
  if (!media_started_) {
    logLine("admitted");
    if (!startMedia()) fail("cannot start media");
    return;
  }
  if (status.clinician_publishing && !clinician_feed_ && !subscribing_ && !resource_.empty()) {
    subscribeToClinician();
  }
}

void PatientApp::subscribeToClinician() {
  const auto offer = session_->subscribe();
  if (!offer) {
    logLine(session_->error());
    return;
  }
  subscribing_ = true;
  subscription_id_ = offer->id;
  try {
    if (windows_ && !clinician_window_) {
      try {
        clinician_window_ = std::make_unique<VideoWindow>(kClinicianTitle);
      } catch (const std::exception& error) {
        windows_ = false;
        logLine(std::string("no clinician window: ") + error.what());
      }
    }
    clinician_feed_ = std::make_unique<ClinicianFeed>(
        options_.ice_address, relay_turn_uris_,
        [this](const std::string& text) { onClinicianMessage(text); },
        [this](GstSample* sample) {
          if (playback_) playback_->push(sample);
        },
        [this](GstSample* sample) { onClinicianVideo(sample); });
  } catch (const std::exception& error) {
    logLine(std::string("cannot receive the clinician's feed: ") + error.what());
    dropClinicianFeed();
    return;
  }
  clinician_feed_->answer(offer->sdp, [this](bool ok, const std::string& sdp_or_error) {
    subscribing_ = false;
    if (!ok || !session_->answerSubscription(subscription_id_, sdp_or_error)) {
      logLine(ok ? session_->error() : sdp_or_error);
      dropClinicianFeed();
      return;
    }
    logLine("subscribed to the clinician");
    keepalive_timer_ = g_timeout_add_seconds(kKeepAliveSeconds, &PatientApp::onKeepAliveTick, this);
  });
}

gboolean PatientApp::onKeepAliveTick(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  const auto publisher = self->session_->keepAlive(self->subscription_id_);
  if (publisher && *publisher) return G_SOURCE_CONTINUE;
  // Gone or stopped publishing: subscribe again once the status lists the clinician's feed.
  self->keepalive_timer_ = 0;
  logLine("the clinician's feed ended");
  self->dropClinicianFeed();
  return G_SOURCE_REMOVE;
}

void PatientApp::dropClinicianFeed() {
  if (keepalive_timer_ != 0) g_source_remove(keepalive_timer_);
  keepalive_timer_ = 0;
  if (!subscription_id_.empty() && session_ && !ended_by_server_) {
    session_->unsubscribe(subscription_id_);
  }
  subscription_id_.clear();
  clinician_feed_.reset();
  subscribing_ = false;
}

void PatientApp::onClinicianMessage(const std::string& text) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("request_mode") || !json["request_mode"].is_string()) {
    return;
  }
  const auto mode = parseMode(json["request_mode"].get<std::string>());
  if (!mode) return;
  const std::string name(toString(*mode));
  // The device decides (design.md §5): stricter applies now, looser waits for the patient.
  switch (authority_.request(*mode)) {
    case ModeAuthority::Outcome::kApplied:
      logLine("the clinician asked for mode " + name + ": applied (stricter)");
      applyMode(authority_.current(), "request");
      return;
    case ModeAuthority::Outcome::kNeedsConfirmation:
      pending_trigger_ = "request";
      logLine("the clinician asks for mode " + name +
              ", which shows more than the current one: type 'confirm' to apply it or 'cancel'");
      return;
    case ModeAuthority::Outcome::kUnchanged:
    case ModeAuthority::Outcome::kNothingPending:
      return;
  }
}

void PatientApp::scheduleRefresh(int delay_seconds) {
  refresh_timer_ =
      g_timeout_add_seconds(static_cast<guint>(delay_seconds), &PatientApp::onRefreshTick, this);
}

gboolean PatientApp::onRefreshTick(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  self->refresh_timer_ = 0;
  // The HTTP call runs on its own thread with copies of the credentials; the result (new
  // credentials or a verdict) comes back to the main loop, where the session is only touched.
  self->refresh_call_.start(
      [input = self->session_->refreshInput()] { return requestRefresh(input); },
      [self](RefreshOutcome outcome) { self->onRefreshDone(std::move(outcome)); });
  return G_SOURCE_REMOVE;
}

void PatientApp::adoptSession(const Credentials& credentials) {
  session_->adopt(credentials);
  session_expires_us_ = g_get_monotonic_time() + gint64{credentials.expires_in} * G_USEC_PER_SEC;
  whip_.setToken(session_->token());
  if (!relay_turn_uris_.empty() && session_->turn()) {
    // Fresh TURN credentials for allocations made from now on (a re-subscription).
    auto renewed = webrtcbinTurnUris(*session_->turn());
    if (!renewed.empty()) relay_turn_uris_ = std::move(renewed);
  }
}

void PatientApp::onRefreshDone(RefreshOutcome outcome) {
  if (ended_by_server_) return;
  switch (outcome.verdict) {
    case ServerVerdict::kOk:
      adoptSession(*outcome.credentials);
      refresh_failures_ = 0;
      logLine("session refreshed");
      scheduleRefresh(refreshDelaySeconds(session_->expiresInSeconds()));
      return;
    case ServerVerdict::kEnded:
      endByServer(kExitNormal, "the consultation has ended (" + outcome.error + ")");
      return;
    case ServerVerdict::kRefused:
    case ServerVerdict::kExpired:
      endByServer(kExitRevoked,
                  "the server refused to renew this device's session (" + outcome.error + ")");
      return;
    case ServerVerdict::kTransient:
      break;
  }
  const gint64 left_us = session_expires_us_ - g_get_monotonic_time();
  if (left_us <= 0) {
    endByServer(kExitSessionExpired,
                "the session expired before a refresh got through (" + outcome.error + ")");
    return;
  }
  refresh_failures_++;
  const int delay = retryDelaySeconds(
      refresh_failures_, static_cast<int>((left_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
  logLine(outcome.error + "; retrying in " + std::to_string(delay) + " s");
  scheduleRefresh(delay);
}

void PatientApp::stopSending() {
  for (guint* timer : {&status_timer_, &refresh_timer_, &media_timeout_, &stats_timer_}) {
    if (*timer != 0) g_source_remove(*timer);
    *timer = 0;
  }
  stopAvatar();
  closeCamera();
  audio_capture_.reset();
  send_.stop();  // webrtcbin closes: nothing leaves the device from here on
  dropClinicianFeed();
  resource_.clear();
}

void PatientApp::endByServer(int exit_status, const std::string& why) {
  if (ended_by_server_) return;
  ended_by_server_ = true;
  stopSending();
  // Codes only (server/README.md "Errors"): no token, invite or name reaches the log.
  logLine(why + "; stopped sending, exit status " + std::to_string(exit_status));
  exit_status_ = exit_status;
  g_main_loop_quit(loop_.get());
}

void PatientApp::onOfferReady(bool ok, const std::string& sdp_or_error) {
  if (!ok) {
    fail(sdp_or_error);
    return;
  }
  const PublishResult published = whip_.publish(options_.consultation_id, sdp_or_error);
  if (!published.ok) {
    fail(published.error);
    return;
  }
  resource_ = published.resource;
  if (!negotiator_.applyAnswer(published.answer_sdp)) {
    fail("the server's answer was not accepted");
    return;
  }
  logLine("published");
  send_.startBitrateControl();
}

void PatientApp::onVideoSample(GstSample* sample) {
  if (!camera_frames_allowed_) return;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstCaps* caps = gst_sample_get_caps(sample);
  GstVideoInfo info;
  if (buffer == nullptr || caps == nullptr || !gst_video_info_from_caps(&info, caps)) return;
  MappedBuffer mapped(buffer, GST_MAP_READ);
  if (!mapped.ok()) return;
  // A view of the capture buffer, valid while `mapped` lives; the Redactor deep-copies what it
  // returns, so the buffer may be recycled as soon as this function ends.
  const cv::Mat view(GST_VIDEO_INFO_HEIGHT(&info), GST_VIDEO_INFO_WIDTH(&info), CV_8UC3,
                     const_cast<guint8*>(mapped.data()),
                     static_cast<size_t>(GST_VIDEO_INFO_PLANE_STRIDE(&info, 0)));
  const Frame frame(view, g_get_real_time());
  const gint64 started_us = g_get_monotonic_time();
  const RedactedFrame redacted = redaction_.redact(frame);
  redaction_us_total_ += static_cast<std::uint64_t>(g_get_monotonic_time() - started_us);
  frames_redacted_++;
  if (redacted.info().state != RedactionState::kNormal) frames_not_normal_++;
  if (send_.pushVideo(redacted) && !first_frame_logged_.exchange(true)) {
    logLine("first redacted frame sent");
  }
}

void PatientApp::applyMode(Mode mode, const char* trigger) {
  const bool voice_only = mode == Mode::kVoiceOnly;
  if (voice_only) closeCamera();  // first, so no camera frame is redacted under the old mode
  redaction_.setMode(mode);
  logLine("mode " + std::string(toString(mode)));
  if (applied_mode_ && *applied_mode_ != mode) {
    reportEvent(nlohmann::json{
        {"type", "mode.reported"},
        {"from", std::string(toString(*applied_mode_))},
        {"to", std::string(toString(mode))},
        {"trigger",
         trigger}}.dump());
  }
  applied_mode_ = mode;
  if (voice_only) {
    startAvatar();
  } else {
    stopAvatar();
    openCamera();
  }
}

void PatientApp::reportEvent(std::string body) {
  if (!session_ || !media_started_ || ended_by_server_) return;
  pending_events_.push_back(std::move(body));
  sendNextEvent();
}

void PatientApp::sendNextEvent() {
  if (event_in_flight_ || pending_events_.empty() || ended_by_server_) return;
  event_in_flight_ = true;
  event_call_.start([input = session_->deviceEventInput(
                         pending_events_.front())] { return postDeviceEvent(input); },
                    [this](std::string error) {
                      event_in_flight_ = false;
                      pending_events_.pop_front();
                      // Not retried: the audit row is the device's word, and a lost one must not
                      // hold the call.
                      if (!error.empty()) logLine(error + " (not recorded in the audit log)");
                      sendNextEvent();
                    });
}

void PatientApp::openCamera() {
  if (video_capture_) return;
  const CaptureDescription video = videoCaptureDescription(options_);
  video_capture_ = std::make_unique<CapturePipeline>(
      "video capture", video.launch, video.configure,
      [this](GstSample* sample) { onVideoSample(sample); },
      [this](const std::string& why) { fail(why); });
  camera_frames_allowed_ = true;
  if (!video_capture_->start()) {
    fail("cannot start video capture");
    return;
  }
  logLine("camera opened");
}

void PatientApp::closeCamera() {
  camera_frames_allowed_ = false;
  if (!video_capture_) return;
  video_capture_->stop();  // blocks until the capture thread has left onVideoSample
  video_capture_.reset();
  logLine("camera closed");
}

void PatientApp::startAvatar() {
  if (avatar_timer_ != 0) return;
  avatar_timer_ = g_timeout_add(1000 / options_.fps, &PatientApp::onAvatarTick, this);
}

void PatientApp::stopAvatar() {
  if (avatar_timer_ == 0) return;
  g_source_remove(avatar_timer_);
  avatar_timer_ = 0;
}

gboolean PatientApp::onAvatarTick(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  const RedactedFrame avatar =
      self->redaction_.avatar(self->options_.width, self->options_.height, g_get_real_time());
  if (self->send_.pushVideo(avatar) && !self->first_frame_logged_.exchange(true)) {
    logLine("first avatar frame sent (camera closed)");
  }
  return G_SOURCE_CONTINUE;
}

void PatientApp::handleControlLine(const std::string& line) {
  const ControlCommand command = parseControlLine(line);
  switch (command.kind) {
    case ControlCommand::Kind::kQuit:
      g_main_loop_quit(loop_.get());
      return;
    case ControlCommand::Kind::kCancel:
      authority_.cancel();
      logLine("pending mode change cancelled");
      return;
    case ControlCommand::Kind::kInvalid:
      logLine(command.error);
      return;
    case ControlCommand::Kind::kConfirm:
      if (authority_.confirm() == ModeAuthority::Outcome::kApplied) {
        applyMode(authority_.current(), pending_trigger_);
      } else {
        logLine("nothing to confirm");
      }
      return;
    case ControlCommand::Kind::kMode:
      switch (authority_.request(command.mode)) {
        case ModeAuthority::Outcome::kApplied:
          applyMode(authority_.current(), "patient");
          return;
        case ModeAuthority::Outcome::kNeedsConfirmation:
          pending_trigger_ = "patient";
          logLine("mode " + std::string(toString(command.mode)) +
                  " shows more than the current one: type 'confirm' to apply it");
          return;
        case ModeAuthority::Outcome::kUnchanged:
        case ModeAuthority::Outcome::kNothingPending:
          return;
      }
  }
}

gboolean PatientApp::onStdin(GIOChannel* channel, GIOCondition condition, gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  if ((condition & G_IO_IN) != 0) {
    gchar* raw_line = nullptr;
    gsize length = 0;
    const GIOStatus status = g_io_channel_read_line(channel, &raw_line, &length, nullptr, nullptr);
    const GCharsPtr line(raw_line);
    if (status == G_IO_STATUS_NORMAL && line) {
      self->handleControlLine(std::string(line.get(), length));
      return G_SOURCE_CONTINUE;
    }
    if (status == G_IO_STATUS_AGAIN) return G_SOURCE_CONTINUE;
  }
  // stdin closed (e.g. started in the background): keep running, controlled by signals only.
  self->stdin_watch_ = 0;
  return G_SOURCE_REMOVE;
}

gboolean PatientApp::onQuitSignal(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  logLine("stopping");
  g_main_loop_quit(self->loop_.get());
  return G_SOURCE_CONTINUE;
}

gboolean PatientApp::onStatsTick(gpointer self_ptr) {
  auto* self = static_cast<PatientApp*>(self_ptr);
  const std::uint64_t frames = self->frames_redacted_.exchange(0);
  const std::uint64_t total_us = self->redaction_us_total_.exchange(0);
  const std::uint64_t not_normal = self->frames_not_normal_.exchange(0);
  char line[160];
  std::snprintf(
      line, sizeof line,
      "stats: %.1f fps redacted, redaction %.1f ms mean, %llu not normal, %llu sent",
      static_cast<double>(frames) / kStatsSeconds,
      frames > 0 ? static_cast<double>(total_us) / 1000.0 / static_cast<double>(frames) : 0.0,
      static_cast<unsigned long long>(not_normal),
      static_cast<unsigned long long>(self->send_.framesPushed()));
  logLine(line);
  const std::uint64_t clinician_frames = self->clinician_frames_.load();
  if (clinician_frames > 0) {
    std::snprintf(
        line, sizeof line, "stats: clinician video %llu frames decoded (%.1f fps)",
        static_cast<unsigned long long>(clinician_frames),
        static_cast<double>(clinician_frames - self->clinician_frames_reported_) / kStatsSeconds);
    self->clinician_frames_reported_ = clinician_frames;
    logLine(line);
  }
  if (self->playback_ && self->playback_->buffersPlayed() > 0) {
    logLine("stats: clinician audio " + std::to_string(self->playback_->buffersPlayed()) +
            " buffers decoded");
  }
  return G_SOURCE_CONTINUE;
}

void PatientApp::fail(const std::string& why) {
  logLine("fatal: " + why);
  exit_status_ = kExitError;
  g_main_loop_quit(loop_.get());
}

}  // namespace veil::client
