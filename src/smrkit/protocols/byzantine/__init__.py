"""Agreement under Byzantine failures, in lock-step rounds (seed 002): Dolev-Strong's
authenticated broadcast (:mod:`.dolev_strong`) for any f < n, and the unauthenticated
exponential information gathering (:mod:`.eig`) for n > 3f."""
