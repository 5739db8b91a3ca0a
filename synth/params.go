package synth

// params sizes a world. Heights are block heights; the economy starts at
// height coinbaseMaturity+1, when the first coinbase can be spent.
type params struct {
	blocks    int32
	miners    int
	exchanges int
	merchants int
	users     int
	heists    int // one victim and one attacker entity each

	actions int // mean user actions per block once the economy runs

	whirlpoolPct, wasabiPct, joinmarketPct int // % of users running that software
	wasabiEvery                            int32
	wasabiMin, wasabiMax                   int // inputs per Wasabi round
	joinmarketEvery                        int32
	mixRounds                              int // Whirlpool rounds per pool and block, at most

	heistFrom, heistTo int32 // heights between which heists start
	peelMin, peelMax   int   // peel chain lengths
	splitMin, splitMax int   // parts a stolen output is split into
	batchMax           int   // outputs of an exchange's withdrawal batch
}

// paramsFor returns the parameters of a scale.
func paramsFor(s Scale) params {
	switch s {
	case Medium:
		return params{
			blocks: 2600, miners: 5, exchanges: 8, merchants: 60, users: 6000, heists: 8,
			actions:      28,
			whirlpoolPct: 6, wasabiPct: 8, joinmarketPct: 3,
			wasabiEvery: 6, wasabiMin: 50, wasabiMax: 120, joinmarketEvery: 12, mixRounds: 2,
			heistFrom: 400, heistTo: 1900,
			peelMin: 5, peelMax: 15, splitMin: 3, splitMax: 8, batchMax: 40,
		}
	case Large:
		return params{
			blocks: 12000, miners: 8, exchanges: 14, merchants: 300, users: 80000, heists: 20,
			actions:      230,
			whirlpoolPct: 5, wasabiPct: 6, joinmarketPct: 2,
			wasabiEvery: 3, wasabiMin: 50, wasabiMax: 150, joinmarketEvery: 4, mixRounds: 3,
			heistFrom: 500, heistTo: 10500,
			peelMin: 6, peelMax: 25, splitMin: 4, splitMax: 10, batchMax: 100,
		}
	default:
		return params{
			blocks: 720, miners: 3, exchanges: 4, merchants: 8, users: 300, heists: 3,
			actions:      5,
			whirlpoolPct: 10, wasabiPct: 20, joinmarketPct: 8,
			wasabiEvery: 8, wasabiMin: 20, wasabiMax: 40, joinmarketEvery: 30, mixRounds: 2,
			heistFrom: 230, heistTo: 360,
			peelMin: 4, peelMax: 8, splitMin: 3, splitMax: 5, batchMax: 12,
		}
	}
}
