#pragma once

#include <gst/gst.h>

#include <atomic>

#include "gst_ptr.h"

namespace veil::client {

// Plays the clinician's decoded audio. Its webrtcechoprobe (kEchoProbeName) is what the
// microphone's webrtcdsp cancels, so it exists from start-up, before the microphone opens, and
// whether or not the clinician talks yet.
class AudioPlayback {
 public:
  enum class Output { kDevice, kDiscard };  // kDiscard: decode and drop (tests, no speaker)
  static constexpr const char* kEchoProbeName = "veil-echo-probe";
  // What push() accepts.
  static constexpr const char* kCaps =
      "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1";

  explicit AudioPlayback(Output output);
  ~AudioPlayback();
  AudioPlayback(const AudioPlayback&) = delete;
  AudioPlayback& operator=(const AudioPlayback&) = delete;

  // From any thread; timestamps are re-stamped on entry.
  void push(GstSample* sample);
  std::uint64_t buffersPlayed() const { return buffers_.load(); }

 private:
  static gboolean onBusMessage(GstBus* bus, GstMessage* message, gpointer self);

  ElementPtr pipeline_;
  ElementPtr source_;
  guint bus_watch_ = 0;
  std::atomic<std::uint64_t> buffers_{0};
};

}  // namespace veil::client
