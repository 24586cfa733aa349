package console

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TestSetPasswordInTheBrowser follows an emailed link in a real Chromium:
// the page passes axe-core, the password is typed by keyboard, a mismatch
// is shown beside its field, and the user ends on the log-in page and logs
// in with the new password.
func TestSetPasswordInTheBrowser(t *testing.T) {
	e := newEnv(t, Config{})
	_, token := e.invite("invited@example.com", store.RoleReadOnly)
	c := newChrome(t)
	do, check, text := c.do, c.check, c.text

	do("open the link", chromedp.Navigate(e.srv.URL+"/set-password?token="+token), chromedp.WaitVisible(chromedp.CSS("#password")))
	check("set-password")
	do("type a mismatch by keyboard", chromedp.SendKeys(chromedp.CSS("#password"), "long enough password\tanother password\r"),
		chromedp.WaitVisible(chromedp.CSS("#confirm-error")))
	check("set-password-error")
	do("type the password twice", chromedp.SendKeys(chromedp.CSS("#password"), "long enough password\tlong enough password\r"),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("read the notice", "#notice"); !strings.Contains(got, "Your password is set") {
		t.Fatalf("after setting the password: %q", got)
	}
	do("log in", chromedp.SendKeys(chromedp.CSS("#email"), "invited@example.com\tlong enough password\r"),
		chromedp.WaitVisible(chromedp.CSS("#webhooks")))
	do("open the used link", chromedp.Navigate(e.srv.URL+"/set-password?token="+token), chromedp.WaitVisible(chromedp.CSS("#error")))
	check("set-password-used")
}
