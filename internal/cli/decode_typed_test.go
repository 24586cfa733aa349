package cli

import (
	"strings"
	"testing"
)

func TestDecodeErrorsReadAsWritten(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, nil, "not cef\n", "decode")
	if code != 1 || strings.Contains(out, `\u003c`) || !strings.Contains(out, `CEF:<version>|`) {
		t.Fatalf("exit %d, %s", code, out)
	}
}

func TestDecodeTyped(t *testing.T) {
	t.Parallel()
	in := "CEF:0|V|P|1.0|C|N|6|rt=17 status=503 success=false src=10 a=x  \r\n"
	code, out, errOut := runCLI(t, nil, in, "decode", "-", "--typed")
	want := `{"prefix":"","header":{"version":"0","device_vendor":"V","device_product":"P","device_version":"1.0","device_event_class_id":"C","name":"N","severity":6},` +
		`"extensions":{"rt":17,"status":503,"success":false,"src":"10","a":"x"}}` + "\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\ngot  %swant %s", code, errOut, out, want)
	}
}
