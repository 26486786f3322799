// veil-blur as a user runs it: real binary, real files, exit codes, no partial outputs.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "privacy_metrics.h"
#include "test_support.h"
#include "veil/person_segmenter.h"

namespace veil {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code;
  std::string output;  // stdout + stderr
};

CommandResult run(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string blur(const std::string& args) {
  return std::string(VEIL_BLUR_PATH) + " --models '" + test::modelsDir().string() + "' " + args;
}

class VeilBlurCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("veil-blur-test-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string at(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  fs::path dir_;
};

std::string frame(const std::string& name) {
  return "'" + (test::referenceDir() / "frames-360p" / name).string() + "'";
}

std::size_t entriesIn(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST_F(VeilBlurCli, HelpAndUsageErrors) {
  const CommandResult help = run(std::string(VEIL_BLUR_PATH) + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("Exit codes"), std::string::npos);
  EXPECT_EQ(run(VEIL_BLUR_PATH).exit_code, 2);
  EXPECT_EQ(run(blur("--mode background --bogus a b")).exit_code, 2);
  EXPECT_EQ(run(blur("--mode sepia a.png b.png")).exit_code, 2);
  EXPECT_EQ(run(blur("--mode background " + frame("messi5.png") + " " + at("out.gif"))).exit_code,
            2);
}

TEST_F(VeilBlurCli, BadInputsGiveExitCode3AndNoOutput) {
  const CommandResult missing =
      run(blur("--mode background " + at("nothing.png") + " " + at("out.png")));
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.output.find("nothing.png"), std::string::npos);
  std::ofstream(dir_ / "notes.txt") << "not media";
  EXPECT_EQ(run(blur("--mode background " + at("notes.txt") + " " + at("out.png"))).exit_code, 3);
  std::ofstream(dir_ / "broken.png") << "not a png";
  EXPECT_EQ(run(blur("--mode background " + at("broken.png") + " " + at("out.png"))).exit_code, 3);
  EXPECT_FALSE(fs::exists(dir_ / "out.png"));
  // A folder with one unreadable image: the whole output folder is withheld.
  fs::create_directories(dir_ / "in");
  fs::copy_file(test::referenceDir() / "frames-360p" / "messi5.png", dir_ / "in" / "a.png");
  fs::copy_file(dir_ / "broken.png", dir_ / "in" / "b.png");
  EXPECT_EQ(run(blur("--mode background " + at("in") + " " + at("out"))).exit_code, 3);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  EXPECT_EQ(entriesIn(dir_), 3u);  // notes.txt, broken.png, in/ — and nothing half-written
}

TEST_F(VeilBlurCli, MissingModelsGiveExitCode4NamingTheFetchCommand) {
  fs::create_directories(dir_ / "no-models");
  const CommandResult r = run(std::string(VEIL_BLUR_PATH) + " --models " + at("no-models") +
                              " --mode background " + frame("messi5.png") + " " + at("out.png"));
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.output.find("scripts/fetch-models"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "out.png"));
}

TEST_F(VeilBlurCli, ImageWithMaskMatchesMediaPipeAndHidesTheBackground) {
  const CommandResult r = run(blur("--mode background --masks-out " + at("masks") + " " +
                                   frame("messi5.png") + " " + at("out.png")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat input = test::readImage(test::referenceDir() / "frames-360p" / "messi5.png");
  const cv::Mat output = test::readImage(dir_ / "out.png");
  ASSERT_EQ(output.size(), input.size());
  const cv::Mat mask = test::readImage(dir_ / "masks" / "messi5.mask.png", cv::IMREAD_GRAYSCALE);
  const cv::Mat theirs =
      test::readImage(test::referenceDir() / "mediapipe-general-360p" / "messi5.png.mask.png",
                      cv::IMREAD_GRAYSCALE);
  EXPECT_GT(test::iou(mask >= 128, theirs >= 128), 0.97);
  // The redactor's own probability, not a second run: one inference per model for the image,
  // and the same mask a separate run of the general model gives (8-bit rounding apart).
  EXPECT_NE(r.output.find("selfie model runs: 1 general, 1 landscape"), std::string::npos)
      << r.output;
  cv::Mat separate;
  makeSelfieSegmenter(SegmenterModel::kGeneral, test::modelsDir())
      ->segment(input)
      .convertTo(separate, CV_8U, 255.0);
  EXPECT_LE(cv::norm(mask, separate, cv::NORM_INF), 1);
  cv::Mat background;
  cv::bitwise_not(theirs >= 128, background);
  EXPECT_EQ(test::survivingBlocks(input, output, background), 0);
}

TEST_F(VeilBlurCli, ExifAndGpsAreNotCopied) {
  // A JPEG carrying an EXIF block with a description standing in for GPS/identity data.
  std::vector<std::uint8_t> jpeg;
  cv::imencode(".jpg", test::readImage(test::referenceDir() / "frames-360p" / "astronaut.png"),
               jpeg);
  const std::string secret = "VEIL-SECRET-GPS-48.8566N-2.3522E";
  std::string tiff = std::string("II*\0\x08\0\0\0", 8) + std::string("\x01\0", 2) +
                     std::string("\x0e\x01\x02\0", 4);  // one entry: ImageDescription, ASCII
  const std::uint32_t count = static_cast<std::uint32_t>(secret.size() + 1), offset = 26;
  tiff.append(reinterpret_cast<const char*>(&count), 4);
  tiff.append(reinterpret_cast<const char*>(&offset), 4);
  tiff.append(std::string("\0\0\0\0", 4));
  tiff += secret + '\0';
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const std::uint16_t length = static_cast<std::uint16_t>(payload.size() + 2);
  std::string app1 = "\xff\xe1";
  app1 += static_cast<char>(length >> 8);
  app1 += static_cast<char>(length & 0xff);
  app1 += payload;
  std::ofstream out(dir_ / "in.jpg", std::ios::binary);
  out.write(reinterpret_cast<const char*>(jpeg.data()), 2);
  out.write(app1.data(), static_cast<std::streamsize>(app1.size()));
  out.write(reinterpret_cast<const char*>(jpeg.data()) + 2,
            static_cast<std::streamsize>(jpeg.size() - 2));
  out.close();
  ASSERT_EQ(run("grep -c " + secret + " " + at("in.jpg")).output, "1\n");
  const CommandResult r = run(blur("--mode background " + at("in.jpg") + " " + at("out.jpg")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream produced(dir_ / "out.jpg", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(produced)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("Exif"), std::string::npos);
}

TEST_F(VeilBlurCli, FolderOfImages) {
  fs::create_directories(dir_ / "in");
  for (const char* name : {"messi5.png", "astronaut.png", "megamind_03.png"}) {
    fs::copy_file(test::referenceDir() / "frames-360p" / name, dir_ / "in" / name);
  }
  const CommandResult r = run(blur("--mode background " + at("in") + " " + at("out")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(entriesIn(dir_ / "out"), 3u);
  EXPECT_NE(r.output.find("image 3/3"), std::string::npos);  // progress on stderr
}

TEST_F(VeilBlurCli, VideoDropsAudioAndContainerMetadata) {
  // Two seconds of a Debian-shipped clip with a tone and identifying container tags.
  const std::string make =
      "ffmpeg -v error -y -i /usr/share/doc/opencv-doc/examples/data/Megamind.avi "
      "-f lavfi -i sine=frequency=440:duration=2 -t 2 -c:v libvpx -c:a libopus "
      "-metadata title=PatientName -metadata comment=GPS-48.8566N " +
      at("in.webm");
  ASSERT_EQ(run(make).exit_code, 0);
  ASSERT_NE(run("ffprobe -v error -show_streams " + at("in.webm")).output.find("codec_type=audio"),
            std::string::npos);
  const CommandResult r = run(blur("--mode background --masks-out " + at("masks") + " " +
                                   at("in.webm") + " " + at("out.mkv")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const CommandResult probe = run("ffprobe -v error -show_streams -show_format " + at("out.mkv"));
  EXPECT_EQ(probe.output.find("codec_type=audio"), std::string::npos) << probe.output;
  EXPECT_NE(probe.output.find("codec_type=video"), std::string::npos);
  EXPECT_EQ(probe.output.find("PatientName"), std::string::npos);
  EXPECT_EQ(probe.output.find("GPS-48"), std::string::npos);
  cv::VideoCapture in((dir_ / "in.webm").string()), out((dir_ / "out.mkv").string());
  int in_frames = 0, out_frames = 0;
  for (cv::Mat f; in.read(f);) ++in_frames;
  for (cv::Mat f; out.read(f);) ++out_frames;
  EXPECT_EQ(in_frames, out_frames);
  EXPECT_EQ(entriesIn(dir_ / "masks"), static_cast<std::size_t>(in_frames));
  EXPECT_NE(r.output.find("selfie model runs: " + std::to_string(in_frames) + " general"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(fs::exists(dir_ / "masks" / "0.mask.png"));
}

TEST_F(VeilBlurCli, VoiceOnlyOnAVideoNeverShowsCameraPixels) {
  ASSERT_EQ(run("ffmpeg -v error -y -i /usr/share/doc/opencv-doc/examples/data/vtest.avi -t 3 "
                "-c:v libvpx " +
                at("in.webm"))
                .exit_code,
            0);
  const CommandResult r = run(blur("--mode voice-only " + at("in.webm") + " " + at("out.webm")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  cv::VideoCapture out((dir_ / "out.webm").string());
  cv::Mat first, later, next;
  ASSERT_TRUE(out.read(first));
  int frames = 1;
  while (frames < 200 && out.read(next)) {
    later = next.clone();
    ++frames;
  }
  ASSERT_GE(frames, 20);
  // Every frame is the same generated avatar (up to codec noise), whatever the camera saw.
  EXPECT_LT(cv::norm(first, later, cv::NORM_L1) / first.total(), 2.0);
}

TEST_F(VeilBlurCli, UnwritableOutputFailsWithoutLeavingFiles) {
  const CommandResult r =
      run(blur("--mode background " + frame("messi5.png") + " " + at("missing-dir/out.png")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "missing-dir"));
}

}  // namespace
}  // namespace veil

namespace veil {
namespace {

TEST_F(VeilBlurCli, KeepVisibleShowsTheZoneOnlyForItsTime) {
  // Image: time 0, so the zone (background, top left) is shown exactly.
  const CommandResult image = run(blur("--mode background --keep-visible 10,10,120,80,5 " +
                                       frame("megamind_05.png") + " " + at("kept.png")));
  ASSERT_EQ(image.exit_code, 0) << image.output;
  const cv::Mat input = test::readImage(test::referenceDir() / "frames-360p" / "megamind_05.png");
  const cv::Mat output = test::readImage(dir_ / "kept.png");
  const cv::Rect zone(10, 10, 120, 80);
  EXPECT_EQ(cv::norm(input(zone), output(zone), cv::NORM_INF), 0);
  EXPECT_NE(
      cv::norm(input(cv::Rect(10, 200, 120, 80)), output(cv::Rect(10, 200, 120, 80)), cv::NORM_INF),
      0);  // outside the zone: hidden as usual

  // Video at 25 fps with a zone for 1 s: at most the first 26 frames (t <= 1 s) carry it (fewer
  // if one of them is hidden whole), and the run says how many.
  ASSERT_EQ(run("ffmpeg -v error -y -i /usr/share/doc/opencv-doc/examples/data/Megamind.avi -t 2 "
                "-r 25 -c:v libvpx " +
                at("in.webm"))
                .exit_code,
            0);
  const CommandResult video = run(blur("--mode background --keep-visible 10,10,120,80,1 " +
                                       at("in.webm") + " " + at("out.webm")));
  ASSERT_EQ(video.exit_code, 0) << video.output;
  const auto at_count = video.output.find("shown unredacted in ");
  ASSERT_NE(at_count, std::string::npos) << video.output;
  const int kept = std::stoi(video.output.substr(at_count + 20));
  EXPECT_GE(kept, 20);
  EXPECT_LE(kept, 26);

  EXPECT_EQ(
      run(blur("--mode background --keep-visible 1,2,3 " + frame("messi5.png") + " " + at("x.png")))
          .exit_code,
      2);
  EXPECT_EQ(run(blur("--mode background --keep-visible 1,2,3,4,9999 " + frame("messi5.png") + " " +
                     at("x.png")))
                .exit_code,
            2);
}

TEST_F(VeilBlurCli, EveryModeRunsOnAnImage) {
  for (const char* mode :
       {"background", "face", "background+face", "voice-only", "private-regions"}) {
    const CommandResult r = run(blur(std::string("--mode ") + mode + " " + frame("messi5.png") +
                                     " " + at(std::string(mode) + ".png")));
    EXPECT_EQ(r.exit_code, 0) << mode << ": " << r.output;
    EXPECT_TRUE(fs::exists(dir_ / (std::string(mode) + ".png"))) << mode;
  }
}

}  // namespace
}  // namespace veil
