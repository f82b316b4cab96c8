package org.bnb4j.quant;

/** Thrown when an input block holds +-Inf, which has no block-wise 8-bit representation. */
public class NonFiniteInputException extends IllegalArgumentException {
    private final long block;

    public NonFiniteInputException(long block, int blocksize) {
        super("input contains +-Inf in block " + block + " (elements " + block * (long) blocksize + ".."
                + ((block + 1) * (long) blocksize - 1) + "): block-wise quantization needs finite values "
                + "(NaN is accepted and maps to code 0; clip or replace Inf first)");
        this.block = block;
    }

    /** The same rejection with what it did to the caller's arrays added to the message. */
    public NonFiniteInputException(NonFiniteInputException e, String consequence) {
        super(e.getMessage() + "; " + consequence, e);
        this.block = e.block;
    }

    /** Index of the first block that held an infinite value. */
    public long block() {
        return block;
    }
}
