package delivery

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild() // the process TestCrashRestart kills
		return
	}
	goleak.VerifyTestMain(m)
}
