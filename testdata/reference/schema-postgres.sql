-- The web app's table on PostgreSQL, exactly as its migrations create it
-- (Django 3.2, PostgreSQL 15), made loadable into an empty database:
--
--   cd webapp && WEBAPP_PG=db PGHOST=127.0.0.1 PGPORT=... PGUSER=postgres \
--       /usr/bin/python3 manage.py migrate
--   pg_dump --schema-only --no-owner --no-privileges -t submissions_submission db |
--       sed -e '/^\\\(un\)\?restrict /d' -e '/^SET /d' -e '/set_config/d' | cat -s
--
-- The sed drops pg_dump's session settings, among them an empty
-- search_path that would outlive the load on the loading connection.
--
-- PostgreSQL database dump
--

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

--
-- Name: submissions_submission; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.submissions_submission (
    id bigint NOT NULL,
    slug character varying(64) NOT NULL,
    status character varying(16) NOT NULL,
    email character varying(254) NOT NULL,
    stl_file character varying(100) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone
);

--
-- Name: submissions_submission_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.submissions_submission_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: submissions_submission_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.submissions_submission_id_seq OWNED BY public.submissions_submission.id;

--
-- Name: submissions_submission id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.submissions_submission ALTER COLUMN id SET DEFAULT nextval('public.submissions_submission_id_seq'::regclass);

--
-- Name: submissions_submission submissions_submission_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.submissions_submission
    ADD CONSTRAINT submissions_submission_pkey PRIMARY KEY (id);

--
-- Name: submissions_submission submissions_submission_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.submissions_submission
    ADD CONSTRAINT submissions_submission_slug_key UNIQUE (slug);

--
-- Name: submissions_submission_slug_dcff9617_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX submissions_submission_slug_dcff9617_like ON public.submissions_submission USING btree (slug varchar_pattern_ops);

--
-- Name: submissions_submission_status_86d9af3f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX submissions_submission_status_86d9af3f ON public.submissions_submission USING btree (status);

--
-- Name: submissions_submission_status_86d9af3f_like; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX submissions_submission_status_86d9af3f_like ON public.submissions_submission USING btree (status varchar_pattern_ops);

--
-- PostgreSQL database dump complete
--

