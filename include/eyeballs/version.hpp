// eyeballs — library version (the one place it is written is CMakeLists.txt's
// project(); this header must agree, and a unit test checks that it does).
#pragma once

#define EYEBALLS_VERSION_MAJOR 0
#define EYEBALLS_VERSION_MINOR 1
#define EYEBALLS_VERSION_PATCH 0
#define EYEBALLS_VERSION_STRING "0.1.0"
