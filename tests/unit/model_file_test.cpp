// Model files: hashes, and malformed files that must give an error, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "model_error.h"
#include "model_registry.h"
#include "sha256.h"
#include "test_support.h"
#include "tflite_net.h"
#include "tflite_reader.h"

namespace veil {
namespace {

std::span<const std::uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(sha256Hex(bytesOf("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex(bytesOf("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex(bytesOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256Hex(bytesOf(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ModelRegistry, MissingFileNamesTheFileAndTheFetchCommand) {
  const auto empty_dir = std::filesystem::temp_directory_path() / "veil-empty-models";
  std::filesystem::create_directories(empty_dir);
  try {
    loadVerifiedModel(ModelId::kSelfieGeneral, empty_dir);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("selfie_segmentation.tflite"), std::string::npos) << what;
    EXPECT_NE(what.find("scripts/fetch-models"), std::string::npos) << what;
  }
}

TEST(ModelRegistry, AlteredFileIsRefusedByItsHash) {
  const auto dir = std::filesystem::temp_directory_path() / "veil-altered-models";
  std::filesystem::create_directories(dir);
  auto bytes = loadVerifiedModel(ModelId::kSelfieLandscape, test::modelsDir());
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(dir / "selfie_segmentation_landscape.tflite", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  EXPECT_THROW(loadVerifiedModel(ModelId::kSelfieLandscape, dir), ModelError);
}

// Reads and builds `bytes`; the outcome must be success or ModelError, nothing else.
void expectErrorOrSuccess(const std::vector<std::uint8_t>& bytes) {
  try {
    const tflite::Graph graph = tflite::readGraph(bytes, "mutated");
    TfliteNet net(graph, "mutated");
  } catch (const ModelError&) {
  }
}

TEST(TfliteReader, TruncatedFilesAreRefused) {
  const auto bytes = loadVerifiedModel(ModelId::kFaceShortRange, test::modelsDir());
  for (const std::size_t length : {std::size_t{0}, std::size_t{3}, std::size_t{15}, std::size_t{64},
                                   bytes.size() / 3, bytes.size() - 1}) {
    const std::vector<std::uint8_t> truncated(bytes.begin(), bytes.begin() + length);
    EXPECT_THROW(tflite::readGraph(truncated, "truncated"), ModelError) << length;
  }
}

TEST(TfliteReader, BitFlippedFilesGiveAnErrorOrAWorkingNetNeverACrash) {
  const auto original = loadVerifiedModel(ModelId::kFaceShortRange, test::modelsDir());
  std::mt19937 random(20261204);
  // Flips concentrated in the first 8 KiB, where the flatbuffer tables and offsets live.
  std::uniform_int_distribution<std::size_t> header(
      0, std::min<std::size_t>(8192, original.size() - 1));
  std::uniform_int_distribution<int> bit(0, 7);
  for (int trial = 0; trial < 150; ++trial) {
    auto mutated = original;
    for (int flips = 0; flips < 1 + trial % 4; ++flips) {
      mutated[header(random)] ^= static_cast<std::uint8_t>(1u << bit(random));
    }
    expectErrorOrSuccess(mutated);
  }
}

TEST(TfliteReader, OversizedAndForeignFilesAreRefused) {
  const std::vector<std::uint8_t> oversized(tflite::kMaxModelBytes + 1, 0);
  EXPECT_THROW(tflite::readGraph(oversized, "oversized"), ModelError);
  std::vector<std::uint8_t> png(4096, 0);
  const std::uint8_t signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::copy(std::begin(signature), std::end(signature), png.begin());
  EXPECT_THROW(tflite::readGraph(png, "not-a-model"), ModelError);
}

TEST(TfliteReader, EveryShippedModelLoads) {
  for (const ModelId id :
       {ModelId::kSelfieGeneral, ModelId::kSelfieLandscape, ModelId::kFaceShortRange,
        ModelId::kFaceFullRange, ModelId::kPoseLandmarkLite, ModelId::kPoseLandmarkFull}) {
    const auto bytes = loadVerifiedModel(id, test::modelsDir());
    EXPECT_NO_THROW(TfliteNet(tflite::readGraph(bytes, "m"), "m")) << modelSpec(id).file_name;
  }
}

}  // namespace
}  // namespace veil
