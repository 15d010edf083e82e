package arch

import (
	"fmt"
	"strconv"
)

// MaxTokenPad bounds Arch.TokenPad: 256 KiB is well past every header limit on the path (the API's
// 16 KiB, NGINX's 64 KiB line), so a bigger pad measures nothing new.
const MaxTokenPad = 256 << 10

// checkTokenPad refuses a pad out of range, or any pad on a user's image, which has no such knob. The
// error starts with the scenario's field name.
func (a Arch) checkTokenPad() error {
	switch {
	case a.TokenPad == 0:
		return nil
	case a.Service.Custom():
		return fmt.Errorf("token_pad_bytes is a knob of the reference API: a custom image (%s) does not understand it", a.Service.Image)
	case a.TokenPad < 0 || a.TokenPad > MaxTokenPad:
		return fmt.Errorf("token_pad_bytes %d: want 0 (off) to %d", a.TokenPad, MaxTokenPad)
	}
	return nil
}

// tokenPadEnv adds TOKEN_PAD_BYTES to the API's environment when the pad is on (off leaves the
// environment as it always was).
func (a Arch) tokenPadEnv(env map[string]string) {
	if a.TokenPad > 0 {
		env["TOKEN_PAD_BYTES"] = strconv.Itoa(a.TokenPad)
	}
}
