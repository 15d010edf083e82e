package load

import (
	"context"
	"net/http"
	"strconv"
)

func init() { RegisterOp(CartWrite{}) }

// CartWrite is PUT /v1/cart with 1-3 random items. PUT replaces the cart, so
// retrying it is safe without a key.
type CartWrite struct{}

var _ Op = CartWrite{}

func (CartWrite) Name() string       { return "cart.write" }
func (CartWrite) NeedsSession() bool { return true }
func (CartWrite) Do(ctx context.Context, x *Exec) Outcome {
	body := appendItems([]byte(`{"items":`), x, 3)
	body = append(body, '}')
	resp, err := x.Do(ctx, Request{Method: http.MethodPut, Path: "/v1/cart", Body: body})
	return OutcomeOf(x, resp, err, "")
}

func appendItems(b []byte, x *Exec, maxItems int) []byte {
	n := 1 + x.Rand().IntN(maxItems)
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":"sku-`...)
		b = strconv.AppendInt(b, int64(x.Rand().IntN(100)), 10)
		b = append(b, `","qty":`...)
		b = strconv.AppendInt(b, int64(1+x.Rand().IntN(5)), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}
