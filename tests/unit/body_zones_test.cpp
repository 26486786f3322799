// BodyZones: geometry on synthetic poses, the uncertain fallback, and zones on real full-body
// frames checked against points marked by hand (chest, crotch; face, ball, feet stay visible).
#include "veil/body_zones.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace veil {
namespace {

void set(PoseResult& pose, PoseLandmark l, cv::Point2f p, float confidence = 0.99f) {
  auto& point = pose.landmarks[static_cast<int>(l)];
  point.position = p;
  point.visibility = confidence;
  point.presence = confidence;
}

// A person facing the camera: shoulders 60 px apart at y=100, hips 40 px apart at y=220
// (T = 120), nose at (130, 60), ears 24 px apart.
PoseResult standing() {
  PoseResult pose;
  pose.presence = 0.99f;
  set(pose, PoseLandmark::kNose, {130, 60});
  set(pose, PoseLandmark::kLeftEar, {142, 58});
  set(pose, PoseLandmark::kRightEar, {118, 58});
  set(pose, PoseLandmark::kLeftShoulder, {160, 100});
  set(pose, PoseLandmark::kRightShoulder, {100, 100});
  set(pose, PoseLandmark::kLeftHip, {150, 220});
  set(pose, PoseLandmark::kRightHip, {110, 220});
  return pose;
}

const cv::Size kFrame(320, 400);
const cv::Rect kPersonBox(80, 30, 100, 360);

bool hides(const cv::Mat& mask, cv::Point p) {
  return mask.at<std::uint8_t>(p) == 255;
}

const BodyZonePolygon& zone(const BodyZones& zones, BodyZone which) {
  for (const auto& p : zones.polygons) {
    if (p.zone == which) return p;
  }
  throw std::runtime_error("zone missing");
}

bool inside(const BodyZonePolygon& polygon, cv::Point2f p) {
  return cv::pointPolygonTest(polygon.corners, p, false) >= 0;
}

TEST(BodyZones, StandingPoseGivesTheStatedRectangles) {
  const BodyZones zones = computeBodyZones(standing(), kPersonBox, kFrame);
  ASSERT_FALSE(zones.uncertain) << zones.reason;
  ASSERT_EQ(zones.polygons.size(), 3u);
  // Chest: 0.10 T .. 0.70 T below the shoulder midpoint (y 112..184), half-width
  // max(0.6 * 60, 0.4 * 120) = 48 around x=130.
  const auto& chest = zone(zones, BodyZone::kChest);
  EXPECT_TRUE(inside(chest, {130, 150}));
  EXPECT_TRUE(inside(chest, {83, 113}));
  EXPECT_TRUE(inside(chest, {177, 183}));
  EXPECT_FALSE(inside(chest, {130, 105}));
  EXPECT_FALSE(inside(chest, {130, 190}));
  EXPECT_FALSE(inside(chest, {75, 150}));
  // Pelvis: 0.30 T above .. 0.50 T below the hip midpoint (y 184..280), half-width
  // max(0.85 * 40, 0.4 * 120) = 48.
  const auto& pelvis = zone(zones, BodyZone::kPelvis);
  EXPECT_TRUE(inside(pelvis, {130, 250}));
  EXPECT_TRUE(inside(pelvis, {83, 279}));
  EXPECT_FALSE(inside(pelvis, {130, 285}));
  // Buttocks: 0.15 T above .. 0.60 T below the hips (y 202..292), half-width 54.
  const auto& buttocks = zone(zones, BodyZone::kButtocks);
  EXPECT_TRUE(inside(buttocks, {78, 290}));
  EXPECT_FALSE(inside(buttocks, {130, 195}));
  // The mask is the union, and leaves the face and the legs below the zones visible.
  EXPECT_TRUE(hides(zones.mask, {130, 150}));
  EXPECT_TRUE(hides(zones.mask, {130, 250}));
  EXPECT_FALSE(hides(zones.mask, {130, 60}));
  EXPECT_FALSE(hides(zones.mask, {130, 330}));
  EXPECT_EQ(zones.mask.size(), kFrame);
  EXPECT_EQ(zones.mask.type(), CV_8UC1);
}

TEST(BodyZones, ZonesTurnWithALyingBody) {
  // The standing pose turned 90 degrees clockwise about (130, 160): head to the left.
  PoseResult pose = standing();
  for (auto& l : pose.landmarks) {
    const cv::Point2f d = l.position - cv::Point2f(130, 160);
    l.position = cv::Point2f(130 - d.y, 160 + d.x);
  }
  const BodyZones zones = computeBodyZones(pose, kPersonBox, kFrame);
  ASSERT_FALSE(zones.uncertain) << zones.reason;
  // The chest centre (130,150) turned is (140,160); the pelvis centre (130,250) is (40,160).
  EXPECT_TRUE(inside(zone(zones, BodyZone::kChest), {140, 160}));
  EXPECT_TRUE(inside(zone(zones, BodyZone::kPelvis), {40, 160}));
  EXPECT_FALSE(inside(zone(zones, BodyZone::kChest), {185, 160}));  // (130,105) turned
}

TEST(BodyZones, NoPoseHidesTheWholePersonBoxWithMargin) {
  const BodyZones zones = computeBodyZones(std::nullopt, kPersonBox, kFrame);
  EXPECT_TRUE(zones.uncertain);
  EXPECT_EQ(zones.reason, "no pose");
  EXPECT_TRUE(zones.polygons.empty());
  // 5 % of the box width (5 px) on every side, clipped to the frame.
  EXPECT_EQ(zones.wide, cv::Rect(75, 30, 110, 365));
  EXPECT_EQ(cv::countNonZero(zones.mask), 110 * 365);
}

TEST(BodyZones, HiddenHipOrShoulderGivesTheWideZoneFromBelowTheFace) {
  for (const PoseLandmark l : {PoseLandmark::kLeftHip, PoseLandmark::kRightShoulder}) {
    PoseResult pose = standing();
    pose.landmarks[static_cast<int>(l)].visibility = 0.3f;
    const BodyZones zones = computeBodyZones(pose, kPersonBox, kFrame);
    EXPECT_TRUE(zones.uncertain);
    EXPECT_EQ(zones.reason, "shoulders or hips not visible");
    // Nose at y=60, box top 30: the wide zone starts at 60 + 0.6 * 30 = 78 and runs to the box
    // bottom plus margin: torso to thighs and everything below.
    EXPECT_EQ(zones.wide.y, 78);
    EXPECT_EQ(zones.wide.y + zones.wide.height, kPersonBox.y + kPersonBox.height + 5);
    EXPECT_TRUE(hides(zones.mask, {130, 150}));
    EXPECT_TRUE(hides(zones.mask, {130, 250}));
    EXPECT_TRUE(hides(zones.mask, {130, 380}));
    EXPECT_FALSE(hides(zones.mask, {130, 60}));
  }
}

TEST(BodyZones, LowPresenceImplausibleProportionsAndHugeHeadAreUncertain) {
  PoseResult low = standing();
  low.presence = 0.2f;
  EXPECT_EQ(computeBodyZones(low, kPersonBox, kFrame).reason, "low pose presence");

  PoseResult squashed = standing();  // torso 20 px for 60 px shoulders
  set(squashed, PoseLandmark::kLeftHip, {150, 120});
  set(squashed, PoseLandmark::kRightHip, {110, 120});
  EXPECT_EQ(computeBodyZones(squashed, kPersonBox, kFrame).reason, "implausible torso proportions");

  PoseResult close_up = standing();  // ears 60 px apart, as wide as the shoulders
  set(close_up, PoseLandmark::kLeftEar, {160, 58});
  set(close_up, PoseLandmark::kRightEar, {100, 58});
  EXPECT_EQ(computeBodyZones(close_up, kPersonBox, kFrame).reason, "head as wide as the shoulders");

  PoseResult tiny = standing();
  for (auto& l : tiny.landmarks) l.position *= 0.05f;
  EXPECT_EQ(computeBodyZones(tiny, kPersonBox, kFrame).reason, "torso too small");
}

// --- Real frames ---------------------------------------------------------------------------

struct MarkedFrame {
  std::string name;
  cv::Rect person;                 // drawn by hand
  cv::Point chest;                 // marked by hand
  cv::Point crotch;                // marked by hand
  std::vector<cv::Point> visible;  // face, ball, feet, another person: not private regions
};

class BodyZonesOnRealFrames : public ::testing::TestWithParam<PoseModel> {};

TEST_P(BodyZonesOnRealFrames, LandOnChestAndPelvisAndSpareTheRest) {
  PoseLandmarker landmarker(GetParam(), test::modelsDir());
  const std::vector<MarkedFrame> frames{
      {"messi5.png",
       {80, 50, 455, 310},
       {275, 155},
       {335, 265},
       {{275, 100}, {420, 335}, {510, 300}}},
      {"basketball1.png",
       {35, 20, 130, 340},
       {85, 125},
       {95, 245},
       {{80, 60}, {550, 200}, {90, 330}}},
      {"basketball2.png",
       {35, 15, 160, 345},
       {85, 130},
       {95, 245},
       {{80, 60}, {550, 200}, {90, 330}}},
  };
  for (const MarkedFrame& f : frames) {
    const cv::Mat image = test::readImage(test::referenceDir() / "frames-360p" / f.name);
    const BodyZones zones =
        computeBodyZones(landmarker.estimate(image, f.person), f.person, image.size());
    ASSERT_FALSE(zones.uncertain) << f.name << ": " << zones.reason;
    EXPECT_TRUE(inside(zone(zones, BodyZone::kChest), f.chest)) << f.name;
    EXPECT_TRUE(inside(zone(zones, BodyZone::kPelvis), f.crotch)) << f.name;
    EXPECT_TRUE(inside(zone(zones, BodyZone::kButtocks), f.crotch)) << f.name;
    for (const cv::Point p : f.visible) EXPECT_FALSE(hides(zones.mask, p)) << f.name << " " << p;
    // Zones stay on the person: at most a sliver outside the hand-drawn box.
    cv::Mat outside = zones.mask.clone();
    outside(f.person).setTo(0);
    EXPECT_LT(cv::countNonZero(outside), cv::countNonZero(zones.mask) / 10) << f.name;
  }
}

// A face close-up (megamind_07: head and shoulders of a cartoon woman) makes the full model
// draw a small body inside the face; the head-width check turns it into the wide zone.
TEST(BodyZonesCloseUp, FaceCloseUpFallsBackToTheWideZone) {
  PoseLandmarker landmarker(PoseModel::kFull, test::modelsDir());
  const cv::Mat image = test::readImage(test::referenceDir() / "frames-360p" / "megamind_07.png");
  const cv::Rect person(64, 34, 310, 326);
  const BodyZones zones =
      computeBodyZones(landmarker.estimate(image, person), person, image.size());
  EXPECT_TRUE(zones.uncertain);
  EXPECT_TRUE(zones.polygons.empty());
  EXPECT_TRUE(hides(zones.mask, {220, 340}));  // her neckline at the bottom of the frame
}

INSTANTIATE_TEST_SUITE_P(Models, BodyZonesOnRealFrames,
                         ::testing::Values(PoseModel::kLite, PoseModel::kFull),
                         [](const auto& info) {
                           return info.param == PoseModel::kLite ? "Lite" : "Full";
                         });

}  // namespace
}  // namespace veil
