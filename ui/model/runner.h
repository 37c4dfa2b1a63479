// The simulator's "run this scenario to the end" as the view needs it
// (source.h's ScenarioRunner): build the scenario's world, run it, hand over
// the trace. No window, no OpenGL: headless tools and tests use it too.
#pragma once

#include "ui/model/source.h"

namespace mailsim::ui {

// Empty when this build has no simulator world to run scenarios in.
ScenarioRunner simulator_runner();

}  // namespace mailsim::ui
