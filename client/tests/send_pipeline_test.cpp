#include "send_pipeline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <vector>

#include "capture_sources.h"
#include "gst_ptr.h"
#include "negotiation.h"
#include "pipeline_walk.h"
#include "veil/redactor.h"

namespace veil::client {
namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 240;

class SendPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

  static SendPipeline::Config config(bool audio) {
    return {.codec = Codec::kVp8,
            .width = kWidth,
            .height = kHeight,
            .fps = 30,
            .ice_address = "127.0.0.1",
            .audio = audio,
            .latency_stamp = false};
  }

  // A capture-like frame with detail everywhere, so any aliasing would show.
  static cv::Mat detailedCapture() {
    cv::Mat capture(kHeight, kWidth, CV_8UC3);
    cv::randu(capture, cv::Scalar::all(0), cv::Scalar::all(255));
    return capture;
  }
};

// Spins the default main context until `done` or the deadline; the webrtcbin callbacks of the
// negotiator are delivered there.
void iterateUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(2000);
  }
}

TEST_F(SendPipelineTest, OnlyTheAppsrcFeedsVideo) {
  SendPipeline send(config(/*audio=*/true));
  ASSERT_TRUE(send.start());
  // Feed redacted video and silent audio as the app does, then offer once media reaches
  // webrtcbin (that is also when webrtcbin builds its transport bins).
  Redactor redactor(RedactorOptions{});
  const cv::Mat capture = detailedCapture();
  const CapsPtr audio_caps(gst_caps_from_string(kAudioRawCaps));
  OfferNegotiator negotiator(send.webrtc());
  bool offered = false;
  bool failed = false;
  std::string offer;
  send.whenMediaFlowing([&] {
    negotiator.createOffer([&](bool ok, const std::string& sdp) {
      offered = ok;
      failed = !ok;
      offer = sdp;
    });
  });
  iterateUntil(
      [&] {
        send.pushVideo(redactor.redact(Frame(capture, 1)));
        const BufferPtr silence(gst_buffer_new_allocate(nullptr, 960 * 2 * 2, nullptr));
        gst_buffer_memset(silence.get(), 0, 0, 960 * 2 * 2);
        const std::unique_ptr<GstSample, decltype(&gst_sample_unref)> sample(
            gst_sample_new(silence.get(), audio_caps.get(), nullptr, nullptr), &gst_sample_unref);
        send.pushAudio(sample.get());
        return offered || failed;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(offered) << offer;
  EXPECT_NE(offer.find("a=ssrc:"), std::string::npos);
  EXPECT_NE(offer.find("a=group:BUNDLE"), std::string::npos);
  EXPECT_NE(offer.find("VP8/90000"), std::string::npos);
  EXPECT_NE(offer.find("OPUS/48000"), std::string::npos);
  EXPECT_NE(offer.find("m=application"), std::string::npos);
  EXPECT_NE(offer.find("nack"), std::string::npos);
  EXPECT_EQ(offer.find("a=recvonly"), std::string::npos);
  EXPECT_EQ(offer.find("a=sendrecv"), std::string::npos);

  const std::vector<std::string> findings =
      testing::unexpectedVideoEntries(send.pipeline(), "video", "audio");
  for (const auto& finding : findings) ADD_FAILURE() << finding;

  // The allowed video source carries raw BGR of the configured size, nothing else.
  const ElementPtr video{gst_bin_get_by_name(GST_BIN(send.pipeline()), "video")};
  ASSERT_TRUE(video);
  GstCaps* raw_caps = nullptr;
  g_object_get(video.get(), "caps", &raw_caps, nullptr);
  const CapsPtr caps(raw_caps);
  ASSERT_TRUE(caps);
  const GstStructure* structure = gst_caps_get_structure(caps.get(), 0);
  EXPECT_STREQ(gst_structure_get_name(structure), "video/x-raw");
  EXPECT_STREQ(gst_structure_get_string(structure, "format"), "BGR");
  send.stop();
}

TEST_F(SendPipelineTest, WalkerFindsASecondVideoSource) {
  // The walk above must be able to fail: a pipeline with a test pattern next to the appsrc.
  GError* raw_error = nullptr;
  GstElement* raw = gst_parse_launch(
      "appsrc name=video ! fakesink videotestsrc name=sneaky ! fakesink "
      "filesrc location=/dev/null ! decodebin ! fakesink",
      &raw_error);
  const ErrorPtr error(raw_error);
  ASSERT_NE(raw, nullptr);
  const ElementPtr pipeline{GST_ELEMENT(gst_object_ref_sink(raw))};
  const ElementPtr vp8dec = makeElement("vp8dec", "decoder");
  ASSERT_TRUE(vp8dec);
  gst_bin_add(GST_BIN(pipeline.get()), GST_ELEMENT(gst_object_ref(vp8dec.get())));
  const std::vector<std::string> findings =
      testing::unexpectedVideoEntries(pipeline.get(), "video", "audio");
  const auto mentions = [&](const std::string& text) {
    for (const auto& line : findings) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(mentions("videotestsrc"));
  EXPECT_TRUE(mentions("filesrc"));
  EXPECT_TRUE(mentions("vp8dec"));
  EXPECT_FALSE(mentions("appsrc"));
}

TEST_F(SendPipelineTest, OverwritingTheCaptureBufferLeavesTheSentBytesUnchanged) {
  Redactor redactor(RedactorOptions{});
  cv::Mat capture = detailedCapture();
  // The capture code hands the engine a view of the capture buffer, exactly like this.
  const Frame frame(capture, 1);
  const RedactedFrame redacted = redactor.redact(frame);
  const cv::Mat at_redaction = redacted.toMat();  // deep snapshot of what must be sent

  SendPipeline send(config(/*audio=*/false));
  const ElementPtr video{gst_bin_get_by_name(GST_BIN(send.pipeline()), "video")};
  const PadPtr pad{gst_element_get_static_pad(video.get(), "src")};

  struct Probe {
    std::mutex mutex;
    std::condition_variable seen;
    std::vector<std::uint8_t> bytes;
    bool done = false;
    cv::Mat* capture = nullptr;
  } probe;
  probe.capture = &capture;
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
        auto* state = static_cast<Probe*>(data);
        // GStreamer recycling the capture buffer while the redacted frame is on its way out.
        state->capture->setTo(cv::Scalar::all(0xAB));
        MappedBuffer mapped(GST_PAD_PROBE_INFO_BUFFER(info), GST_MAP_READ);
        const std::lock_guard lock(state->mutex);
        if (!state->done && mapped.ok()) {
          state->bytes.assign(mapped.data(), mapped.data() + mapped.size());
          state->done = true;
          state->seen.notify_all();
        }
        return GST_PAD_PROBE_OK;
      },
      &probe, nullptr);

  ASSERT_TRUE(send.start());
  capture.setTo(cv::Scalar::all(0x55));  // and overwritten again before the push
  ASSERT_TRUE(send.pushVideo(redacted));
  {
    std::unique_lock lock(probe.mutex);
    ASSERT_TRUE(probe.seen.wait_for(lock, std::chrono::seconds(10), [&] { return probe.done; }));
  }
  send.stop();

  ASSERT_EQ(probe.bytes.size(), static_cast<size_t>(kWidth * kHeight * 3));
  ASSERT_TRUE(at_redaction.isContinuous());
  const std::vector<std::uint8_t> expected(at_redaction.data,
                                           at_redaction.data + at_redaction.total() * 3);
  EXPECT_EQ(probe.bytes, expected);
  // Had the sent buffer aliased the capture buffer, it would now read 0xAB everywhere.
  EXPECT_EQ(cv::countNonZero(capture.reshape(1) != 0xAB), 0);
  EXPECT_GT(std::count_if(expected.begin(), expected.end(), [](auto v) { return v != 0xAB; }), 0);
}

TEST_F(SendPipelineTest, PreviewShowsExactlyTheRedactedBytesThatAreSent) {
  Redactor redactor(RedactorOptions{});
  cv::Mat capture = detailedCapture();
  const RedactedFrame redacted = redactor.redact(Frame(capture, 1));
  const cv::Mat at_redaction = redacted.toMat();
  capture.setTo(cv::Scalar::all(0xAB));  // the raw frame is gone; only redacted pixels remain

  SendPipeline::Config preview_config = config(/*audio=*/false);
  preview_config.preview = true;
  SendPipeline send(preview_config);
  // The preview branch adds no way in: the appsrc is still the only video source.
  for (const auto& finding : testing::unexpectedVideoEntries(send.pipeline(), "video", "audio")) {
    ADD_FAILURE() << finding;
  }
  struct Seen {
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<std::uint8_t> bytes;
    std::string format;
  } seen;
  send.setPreviewCallback([&seen](GstSample* sample) {
    MappedBuffer mapped(gst_sample_get_buffer(sample), GST_MAP_READ);
    const GstStructure* caps = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
    const std::lock_guard lock(seen.mutex);
    if (!seen.bytes.empty() || !mapped.ok()) return;
    seen.format = gst_structure_get_string(caps, "format");
    seen.bytes.assign(mapped.data(), mapped.data() + mapped.size());
    seen.arrived.notify_all();
  });
  ASSERT_TRUE(send.start());
  ASSERT_TRUE(send.pushVideo(redacted));
  {
    std::unique_lock lock(seen.mutex);
    ASSERT_TRUE(
        seen.arrived.wait_for(lock, std::chrono::seconds(10), [&] { return !seen.bytes.empty(); }));
  }
  send.stop();
  EXPECT_EQ(seen.format, "BGR");
  ASSERT_TRUE(at_redaction.isContinuous());
  const std::vector<std::uint8_t> expected(at_redaction.data,
                                           at_redaction.data + at_redaction.total() * 3);
  EXPECT_EQ(seen.bytes, expected);
}

TEST_F(SendPipelineTest, RefusesAFrameOfAnotherSize) {
  Redactor redactor(RedactorOptions{});
  const cv::Mat small(kHeight / 2, kWidth / 2, CV_8UC3, cv::Scalar::all(10));
  const RedactedFrame redacted = redactor.redact(Frame(small, 1));
  SendPipeline send(config(/*audio=*/false));
  ASSERT_TRUE(send.start());
  EXPECT_FALSE(send.pushVideo(redacted));
  EXPECT_EQ(send.framesPushed(), 0u);
  send.stop();
}

}  // namespace
}  // namespace veil::client
