CREATE TABLE "imported_tutorial_users" (
	"tutorial_id" integer PRIMARY KEY NOT NULL,
	"user_id" uuid,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "imported_tutorial_users" ADD CONSTRAINT "imported_tutorial_users_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;