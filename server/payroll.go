package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/heistgraph/heistgraph/payroll"
)

// PayrollScreener answers POST /v1/screen/payroll: the payees, parsed and
// checked by the server (payroll.ParseRequest), screened by package
// payroll over the backend's store. A backend without it answers 501.
type PayrollScreener interface {
	ScreenPayroll(ctx context.Context, req *payroll.Request) (*payroll.Answer, error)
}

var (
	payrollWalletSchema = object([]string{"chain", "address"}, schema{"chain": str("chain id"), "address": str("wallet address")})
	payrollPayoutSchema = object([]string{"chain", "txid", "vout"}, schema{"chain": str("UTXO chain id"), "txid": str("payout transaction"), "vout": intg("payout output")})
	payrollBodySchema   = object([]string{"payees"}, schema{
		"payees": schema{"type": "array", "maxItems": payroll.MaxPayees, "items": object([]string{"id"}, schema{
			"id": str("the payee's id in the payroll"), "name": str("name as on the contract"), "email": str("e-mail address"),
			"wallets": schema{"type": "array", "maxItems": payroll.MaxWallets, "items": payrollWalletSchema},
			"payouts": schema{"type": "array", "maxItems": payroll.MaxPayouts, "items": payrollPayoutSchema},
		})},
		"hops": intg("H: hops the pay is followed (default 3)"),
	})
	payrollFlagSchema   = object([]string{"kind", "level", "detail", "evidence"}, schema{"kind": str("dprk_exposure, sanctioned_exposure, sanctioned_wallet, sdn_match, it_worker_indicator, shared_wallet, shared_cluster, converging_payouts"), "level": str("low, medium, high or severe"), "detail": str("for a person"), "evidence": schema{"type": "object"}})
	payrollAnswerSchema = object([]string{"payees", "config"}, schema{
		"payees": arr(object([]string{"id", "risk", "flags", "wallets"}, schema{
			"id": str("payee id"), "risk": str("none, low, medium, high or severe: the highest flag"),
			"flags": arr(payrollFlagSchema), "wallets": arr(schema{"type": "object", "description": "the wallet's screen (POST /v1/screen's answer)"}),
			"pay": arr(schema{"type": "object", "description": "the sent-side screen of the pay on one chain"}),
		})),
		"summary": schema{"type": "object"}, "config": schema{"type": "object"},
	})
)

// payrollRoutes is the payroll screening route.
func payrollRoutes() []route {
	return []route{{method: "POST", path: "/v1/screen/payroll", role: RoleScreener, audit: auditAsync,
		summary: "Screen a payroll: payees' wallets, where their pay went, OFAC DPRK-program names, IT-worker indicators, links between payees",
		body:    payrollBodySchema, resp: payrollAnswerSchema, h: postPayroll}}
}

func postPayroll(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	raw, err := readRawBody(r)
	if err != nil {
		return nil, err
	}
	req, err := payroll.ParseRequest(raw)
	var le *payroll.LimitError
	var fe *payroll.FieldError
	switch {
	case errors.As(err, &le):
		info.items = le.Got
		return nil, tooLarge("%s", le.Error())
	case errors.As(err, &fe):
		return nil, fieldErrf(fe.Field, "%s", fe.Msg)
	case err != nil:
		return nil, err
	}
	info.items = len(req.Payees)
	ps, ok := s.backend.(PayrollScreener)
	if !ok {
		return nil, &statusError{status: http.StatusNotImplemented, msg: "payroll screening is not available on this server"}
	}
	ans, err := ps.ScreenPayroll(r.Context(), req)
	if err != nil {
		return nil, err
	}
	risks := make([]string, len(ans.Payees))
	for i, p := range ans.Payees {
		risks[i] = string(p.Risk)
	}
	info.risk = highestRisk(risks)
	return ans, nil
}
