package bridge_test

import (
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// TestFormatAmount: amounts in minor units read as the currency counts them: cents for EUR,
// whole yen for JPY (8000 JPY, not 80.00), fils for KWD.
func TestFormatAmount(t *testing.T) {
	for _, c := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{8000, "eur", "80.00 EUR"},
		{5, "USD", "0.05 USD"},
		{-1250, "CAD", "-12.50 CAD"},
		{8000, "JPY", "8000 JPY"},
		{12500, "KWD", "12.500 KWD"},
		{0, "krw", "0 KRW"},
	} {
		if got := bridge.FormatAmount(c.amount, c.currency); got != c.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", c.amount, c.currency, got, c.want)
		}
	}
}
