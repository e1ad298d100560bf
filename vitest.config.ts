// vitest: every test under test/, one file at a time (the end-to-end files share the lab hosts).
import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // End-to-end files share the lab hosts: one file at a time.
        fileParallelism: false,
        testTimeout: 300_000,
        hookTimeout: 900_000,
        reporters: ["verbose"],
    },
});
