CREATE TABLE "jwt_signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"generation" integer NOT NULL,
	"public_jwk" text NOT NULL,
	"sealed_private_key" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"signing_starts_at" timestamp with time zone NOT NULL,
	"signing_ends_at" timestamp with time zone,
	"published_until" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "jwt_signing_keys_generation_idx" ON "jwt_signing_keys" USING btree ("generation");