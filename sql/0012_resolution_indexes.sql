-- Migration 0012 (issue 12): incremental entity resolution finds a batch's neighbourhood by index
-- lookups (leads sharing an exact key or an organization with the batch, the members of their
-- clusters, the leads of the accounts they touch) instead of reading every resolved lead.
-- Numbered after the issue, not the next free number, so parallel branches do not collide.
CREATE INDEX ix_std_leads_email_key ON standardized_leads (email_match_key);
CREATE INDEX ix_std_leads_phone ON standardized_leads (phone_e164);
CREATE INDEX ix_std_leads_linkedin ON standardized_leads (linkedin_url);
CREATE INDEX ix_std_leads_vendor_id ON standardized_leads (vendor_lead_id);
CREATE INDEX ix_std_leads_domain ON standardized_leads (domain);
CREATE INDEX ix_std_leads_company_key ON standardized_leads (company_key);
CREATE INDEX ix_lead_clusters_cluster ON lead_clusters (lead_cluster_id);
CREATE INDEX ix_lead_clusters_account ON lead_clusters (account_id);
